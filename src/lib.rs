//! athanor: Alembic-style schema migrations for SQLite.
//!
//! Layers, each using only the ones below it: [`core`] (pure: scripts, revision map,
//! targets, planner) → [`sqlite`] (runs plans on SQLite) → [`cli`] (the commands'
//! text and exit status).

// Each layer above the core is a cargo feature (Cargo.toml), so a wasm can leave out
// what its host does not run: SQLite for host adapters, autogenerate and the CLI for
// browsers.
#[cfg(feature = "autogen")]
pub mod autogen;
#[cfg(feature = "commands")]
pub mod cli;
pub mod core;
#[cfg(feature = "autogen")]
pub mod safety;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use crate::core::error::{Error, Result};
#[cfg(target_arch = "wasm32")]
pub mod wasm;
