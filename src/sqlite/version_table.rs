//! The version table (Alembic's `alembic_version`, one row per head) and athanor's own
//! history table beside it (checksum and time of each applied revision).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use super::sql_error;
use crate::core::error::Result;
use crate::core::offline::create_version_table;
use crate::core::version_sql::{forget_all_sql, forget_sql, history_table_sql, purge_sql, rows_sql, HISTORY_TABLE};

pub fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    conn.query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
        .map_err(sql_error)
}

/// The rows in rowid order; none when the table does not exist.
pub fn read_rows(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let sql = rows_sql(table);
    // One statement, not an existence check first: this runs on every page load.
    let mut st = match conn.prepare(&sql) {
        Ok(st) => st,
        Err(_) if !table_exists(conn, table)? => return Ok(vec![]),
        // Outside a transaction another process may have created the table between
        // the two looks: prepare again against the schema as it is now.
        Err(_) => conn.prepare(&sql).map_err(sql_error)?,
    };
    let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(sql_error)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql_error)
}

pub fn ensure(conn: &Connection, table: &str) -> Result<()> {
    if !table_exists(conn, table)? {
        conn.execute_batch(&create_version_table(table)).map_err(sql_error)?;
    }
    Ok(())
}

pub fn purge(conn: &Connection, table: &str) -> Result<()> {
    if table_exists(conn, table)? {
        conn.execute(&purge_sql(table), []).map_err(sql_error)?;
    }
    Ok(())
}

/// Recorded checksums by revision; empty when nothing was recorded yet.
pub fn checksums(conn: &Connection, table: &str) -> Result<HashMap<String, String>> {
    if !table_exists(conn, HISTORY_TABLE)? {
        return Ok(HashMap::new());
    }
    let mut st = conn.prepare(&format!("SELECT revision, checksum FROM {HISTORY_TABLE} WHERE version_table = ?1")).map_err(sql_error)?;
    let rows = st.query_map([table], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(sql_error)?;
    rows.collect::<rusqlite::Result<HashMap<_, _>>>().map_err(sql_error)
}

fn ensure_history(conn: &Connection) -> Result<()> {
    conn.execute_batch(&history_table_sql()).map_err(sql_error)
}

/// Records applied revisions `(revision, checksum, ms)`, many rows per statement.
pub fn record(conn: &Connection, table: &str, applied: &[(String, String, i64)]) -> Result<()> {
    if applied.is_empty() {
        return Ok(());
    }
    ensure_history(conn)?;
    let now: String = conn.query_row("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')", [], |r| r.get(0)).map_err(sql_error)?;
    for chunk in applied.chunks(200) {
        let values = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!("INSERT OR REPLACE INTO {HISTORY_TABLE} (version_table, revision, checksum, applied_at, execution_ms) VALUES {values}");
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 5);
        for (rev, sum, ms) in chunk {
            params.extend([&table as &dyn rusqlite::ToSql, rev, sum, &now, ms]);
        }
        conn.prepare_cached(&sql).and_then(|mut st| st.execute(params.as_slice())).map_err(sql_error)?;
    }
    Ok(())
}

/// Forgets every recorded checksum of `table` (`stamp --purge`).
pub fn forget_all(conn: &Connection, table: &str) -> Result<()> {
    if table_exists(conn, HISTORY_TABLE)? {
        conn.execute(&forget_all_sql(), [table]).map_err(sql_error)?;
    }
    Ok(())
}

/// Drops the history of `revisions` (no longer applied: after a downgrade or stamp, or
/// after another tool such as Alembic moved the version table).
pub fn forget(conn: &Connection, table: &str, revisions: &[String]) -> Result<()> {
    for rev in revisions {
        conn.prepare_cached(&forget_sql()).and_then(|mut st| st.execute([table, rev])).map_err(sql_error)?;
    }
    Ok(())
}
