//! Migration safety: `athanor test` ([`round_trip`]: every revision's upgrade,
//! downgrade and upgrade again on a scratch database, each downgrade checked to restore
//! the schema) and `athanor lint` ([`lint`]: each migration's changes classed as
//! destructive, data-dependent, backward-incompatible or non-transactional). Both work
//! on scratch in-memory SQLite databases, never the user's, and compare schemas with
//! autogenerate's model ([`crate::autogen`]), so they need the `autogen` feature. The
//! CLI prints their reports (`src/cli/safety.rs`); a JS API would call the same
//! functions: [`test_history`], and [`lint::choose_revisions`] then [`lint::lint`].

pub mod classify;
pub mod ignore;
pub mod lint;
pub mod round_trip;
pub mod seed;

pub use classify::Class;
pub use lint::{Finding, LintReport};
pub use round_trip::{test_history, test_on, TestOptions, TestReport};
