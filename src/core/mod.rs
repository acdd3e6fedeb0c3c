//! The pure core: scripts, the revision map, targets, the planner and offline SQL.
//! No SQLite, no JS, no I/O.

pub mod batch;
pub mod bitset;
pub mod closure;
pub mod connection;
pub mod error;
pub mod graph;
pub mod hash;
pub mod integrity;
pub mod offline;
pub mod order;
pub mod plan;
pub mod range;
pub mod run;
pub mod script;
// Only the CLI's wasms hash in SIMD lanes (see the module).
#[cfg(any(test, all(target_arch = "wasm32", feature = "commands")))]
pub mod sha256;
pub mod source;
pub mod statements;
pub mod target;
pub mod version_sql;
pub mod walk;
