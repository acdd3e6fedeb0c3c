//! The execution layer: runs the core's plans on SQLite through rusqlite (bundled
//! SQLite natively, sqlite-wasm-rs on wasm32). The only module that names rusqlite.

pub mod connection;
pub mod runner;
pub mod version_table;

use std::time::Duration;

use crate::core::error::{Error, Result};

/// How long a migrator waits for another one's write lock before `LOCKED`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Readies a freshly opened connection for migrating: waits `busy` (default
/// `BUSY_TIMEOUT`) for other writers, and turns foreign keys off. That is SQLite's own
/// default, which the sqlite3 shell, Python and Alembic migrate with; the bundled
/// SQLite turns them on.
pub fn prepare_connection(conn: &rusqlite::Connection, busy: Option<Duration>) -> Result<()> {
    conn.busy_timeout(busy.unwrap_or(BUSY_TIMEOUT)).map_err(sql_error)?;
    conn.execute_batch("PRAGMA foreign_keys = OFF").map_err(sql_error)
}

/// [`crate::core::connection::claim_if_empty`] on a rusqlite connection, "moved" as
/// SQLite's VFS tells it.
pub fn claim_if_empty(conn: &rusqlite::Connection) -> bool {
    crate::core::connection::claim_if_empty(&mut connection::Rusqlite(conn), |c| has_moved(c.0))
}

/// Whether the main database file is no longer the one at its path (removed or
/// replaced since it was opened). Unknown (a VFS that cannot tell) counts as not moved.
pub fn has_moved(conn: &rusqlite::Connection) -> bool {
    let mut moved: std::os::raw::c_int = 0;
    // SAFETY: the handle is live for `conn`'s lifetime, and SQLITE_FCNTL_HAS_MOVED
    // writes one int through the pointer.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_HAS_MOVED,
            (&mut moved as *mut std::os::raw::c_int).cast(),
        )
    };
    rc == rusqlite::ffi::SQLITE_OK && moved != 0
}

/// A rusqlite error as ours: busy/locked databases get `LOCKED`.
pub fn sql_error(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) {
            return Error::Locked(e.to_string());
        }
    }
    Error::Sqlite { message: e.to_string(), code: sqlite_code(&e) }
}

/// SQLite's extended result code of a failure, when SQLite reported it.
pub fn sqlite_code(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code),
        _ => None,
    }
}
