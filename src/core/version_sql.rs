//! The version table's and history table's SQL as text with `?` placeholders: built
//! once here for both paths, the embedded engine (src/sqlite) running them and the
//! Planner handing them to host adapters. Pure, so a wasm without SQLite has them.

use super::offline::quote_ident;
use super::plan::VersionOp;

/// athanor's own table: one row per applied revision per version table.
pub const HISTORY_TABLE: &str = "athanor_history";

/// Reads the rows in rowid order (Alembic's `downgrade -N` starts from the first).
pub fn rows_sql(table: &str) -> String {
    format!("SELECT version_num FROM {} ORDER BY rowid", quote_ident(table))
}

/// One change to the rows and its parameters; it must touch exactly one row.
pub fn change_sql<'o>(table: &str, op: &'o VersionOp) -> (String, Vec<&'o str>) {
    let t = quote_ident(table);
    match op {
        VersionOp::Insert(v) => (format!("INSERT INTO {t} (version_num) VALUES (?)"), vec![v]),
        VersionOp::Delete(v) => (format!("DELETE FROM {t} WHERE version_num = ?"), vec![v]),
        VersionOp::Update { from, to } => (format!("UPDATE {t} SET version_num = ? WHERE version_num = ?"), vec![to, from]),
    }
}

/// Empties the version table (`stamp --purge`).
pub fn purge_sql(table: &str) -> String {
    format!("DELETE FROM {}", quote_ident(table))
}

/// Forgets every recorded revision of one version table (parameter: its name).
pub fn forget_all_sql() -> String {
    format!("DELETE FROM {HISTORY_TABLE} WHERE version_table = ?")
}

/// Forgets one revision's history (parameters: version table, revision), so both paths
/// prune alike.
pub fn forget_sql() -> String {
    format!("DELETE FROM {HISTORY_TABLE} WHERE version_table = ? AND revision = ?")
}

/// The most applied revisions one [`record_sql`] statement records: 4 bound parameters
/// a row, and 100 a statement is the most D1 and a Durable Object allow.
pub const RECORD_ROWS: usize = 25;

/// Records `rows` applied revisions (at most [`RECORD_ROWS`]), replacing what was
/// recorded for them; parameters per row: version table, revision, checksum, execution
/// ms. The time applied is SQLite's own clock.
pub fn record_sql(rows: usize) -> String {
    let values = vec!["(?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'), ?)"; rows].join(", ");
    format!("INSERT OR REPLACE INTO {HISTORY_TABLE} (version_table, revision, checksum, applied_at, execution_ms) VALUES {values}")
}

/// Reads the recorded checksums of one version table (parameter: its name), one
/// `revision checksum` text per row (ids and checksums hold no spaces; see
/// [`parse_checksums`]).
pub fn checksums_sql() -> String {
    format!("SELECT revision || ' ' || checksum FROM {HISTORY_TABLE} WHERE version_table = ?")
}

/// The rows of [`checksums_sql`] as checksums by revision.
pub fn parse_checksums<'a>(rows: impl IntoIterator<Item = &'a str>) -> super::hash::HashMap<String, String> {
    rows.into_iter().filter_map(|r| r.split_once(' ')).map(|(rev, sum)| (rev.to_string(), sum.to_string())).collect()
}

/// The history table's DDL.
pub fn history_table_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (\n    version_table TEXT NOT NULL,\n    revision TEXT NOT NULL,\n    checksum TEXT NOT NULL,\n    applied_at TEXT NOT NULL,\n    execution_ms INTEGER NOT NULL,\n    PRIMARY KEY (version_table, revision)\n)"
    )
}
