//! athanor: Alembic-style schema migrations for SQLite.
//!
//! Layers, each using only the ones below it: [`core`] (pure: scripts, revision map,
//! targets, planner) → [`sqlite`] (runs plans on SQLite) → [`cli`] (the commands'
//! text and exit status).

pub mod autogen;
pub mod cli;
pub mod core;
pub mod sqlite;

pub use crate::core::error::{Error, Result};
#[cfg(target_arch = "wasm32")]
pub mod wasm;
