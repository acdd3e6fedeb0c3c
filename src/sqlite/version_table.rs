//! The version table (Alembic's `alembic_version`, one row per head) read on a rusqlite
//! connection; how it and the history table are read and written is the core's
//! (`core::connection`), for every host alike.

use rusqlite::Connection;

use super::connection::Rusqlite;
use crate::core::connection;
use crate::core::error::Result;

pub fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    connection::table_exists(&mut Rusqlite(conn), name)
}

/// The rows in rowid order; none when the table does not exist.
pub fn read_rows(conn: &Connection, table: &str) -> Result<Vec<String>> {
    connection::read_rows(&mut Rusqlite(conn), table)
}
