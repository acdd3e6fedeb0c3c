//! The execution layer: runs the core's plans on SQLite through rusqlite (bundled
//! SQLite natively, sqlite-wasm-rs on wasm32). The only module that names rusqlite.

pub mod runner;
pub mod split;
pub mod version_table;

use crate::core::error::Error;

/// A rusqlite error as ours: busy/locked databases get `LOCKED`.
pub fn sql_error(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) {
            return Error::Locked(e.to_string());
        }
    }
    Error::Sqlite(e.to_string())
}
