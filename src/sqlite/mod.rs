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

/// After a failed run on a database file it may have created: is the file empty and
/// ours alone, so that removing it loses nothing? Takes an EXCLUSIVE lock without
/// waiting (any other connection's lock means the file is in use: theirs to keep),
/// then checks that the file holds nothing (no schema, no header settings) and is
/// still the one at its path. On `true` the lock is held until `conn` closes; the
/// caller removes the file before that, so no other connection can be writing it
/// meanwhile. A connection that opened the file and waits for its lock finds it moved
/// when it writes (the unix VFS's SQLITE_READONLY_DBMOVED, the Node VFS's same check)
/// rather than writing a file that is gone.
pub fn claim_if_empty(conn: &rusqlite::Connection) -> bool {
    if conn.busy_timeout(Duration::ZERO).is_err() || conn.execute_batch("BEGIN EXCLUSIVE").is_err() {
        return false;
    }
    // Under EXCLUSIVE a hot journal has been rolled back, so this is what is committed.
    // (page_count says 1 here: beginning a write transaction on an empty file readies
    // page 1 in memory.) In WAL mode EXCLUSIVE does not keep readers out: never removed.
    let empty = conn
        .query_row(
            "SELECT (SELECT count(*) FROM sqlite_schema) + (SELECT user_version FROM pragma_user_version) \
             + (SELECT application_id FROM pragma_application_id) + (SELECT journal_mode = 'wal' FROM pragma_journal_mode)",
            [],
            |r| r.get::<_, i64>(0),
        )
        .is_ok_and(|n| n == 0);
    if empty && !has_moved(conn) {
        return true;
    }
    let _ = conn.execute_batch("ROLLBACK");
    false
}

/// Whether the main database file is no longer the one at its path (removed or
/// replaced since it was opened). Unknown (a VFS that cannot tell) counts as not moved.
fn has_moved(conn: &rusqlite::Connection) -> bool {
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
