//! The run's host over any SQLite connection that answers three primitives: the first
//! column of a query's rows, a write's count of changed rows, and one statement run to
//! completion. rusqlite (the native CLI, the embedded wasm engine) and the JS
//! connections (node:sqlite, better-sqlite3, bun:sqlite, sqlite-wasm, a Durable
//! Object's storage) each implement only [`Connection`]; what a run reads and writes
//! there, and how (the version and history tables, the file's lock, foreign keys), is
//! written here once.

use super::hash::HashMap;

use super::error::{Error, Result};
use super::offline::create_version_table;
use super::plan::VersionOp;
use super::run::{RunHost, SqlFailure, Stopped};
use super::statements::Statement;
use super::version_sql::{
    change_sql, checksums_sql, forget_all_sql, forget_sql, history_table_sql, parse_checksums, purge_sql, record_sql, rows_sql, HISTORY_TABLE,
    RECORD_ROWS,
};

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Text(&'a str),
    Int(i64),
}

/// What athanor needs of a connection. Errors are SQLite's message and, where the
/// driver reports it, its extended result code.
pub trait Connection {
    /// The first column of each row, as text (`None`: NULL).
    fn values(&mut self, sql: &str, params: &[Param]) -> std::result::Result<Vec<Option<String>>, SqlFailure>;
    /// One statement with bound parameters; the rows it changed.
    fn run(&mut self, sql: &str, params: &[Param]) -> std::result::Result<usize, SqlFailure>;
    /// One statement without parameters, run to completion (rows it returns are read
    /// and dropped: `PRAGMA foreign_key_check` answers with rows, not an error).
    fn exec(&mut self, sql: &str) -> std::result::Result<(), SqlFailure>;
    /// Whether a transaction is open; `None` when the driver cannot tell.
    fn in_transaction(&mut self) -> Option<bool>;
    /// Runs `statements` in order, each as [`Connection::exec`], stopping at the first
    /// that fails or, with `keep_open`, after which [`Connection::in_transaction`] says
    /// no transaction is open. A JS connection runs them all in one crossing.
    fn exec_each(&mut self, statements: &[&str], keep_open: bool) -> std::result::Result<(), Stopped> {
        exec_one_by_one(self, statements, keep_open)
    }
    /// A clock for steps' durations, in milliseconds.
    fn now_ms(&self) -> f64;
}

impl SqlFailure {
    /// As an error of ours: another connection's lock is `LOCKED` (SQLITE_BUSY and
    /// SQLITE_LOCKED by code, or by SQLite's message where a driver gives no code).
    pub fn into_error(self) -> Error {
        let busy = match self.code {
            Some(code) => matches!(code & 0xff, 5 | 6),
            None => self.message.contains("database is locked") || self.message.contains("database table is locked"),
        };
        if busy {
            Error::Locked(self.message)
        } else {
            Error::Sqlite { message: self.message, code: self.code }
        }
    }
}

/// [`Connection::exec_each`], a call per statement.
pub fn exec_one_by_one(conn: &mut (impl Connection + ?Sized), statements: &[&str], keep_open: bool) -> std::result::Result<(), Stopped> {
    for (at, sql) in statements.iter().enumerate() {
        conn.exec(sql).map_err(|failure| Stopped::Failed { at, failure })?;
        if keep_open && conn.in_transaction() == Some(false) {
            return Err(Stopped::Closed { at });
        }
    }
    Ok(())
}

/// A statement's rows as text, errors as ours.
pub fn values(conn: &mut (impl Connection + ?Sized), sql: &str, params: &[Param]) -> Result<Vec<String>> {
    let rows = conn.values(sql, params).map_err(SqlFailure::into_error)?;
    Ok(rows.into_iter().map(Option::unwrap_or_default).collect())
}

fn run(conn: &mut (impl Connection + ?Sized), sql: &str, params: &[Param]) -> Result<usize> {
    conn.run(sql, params).map_err(SqlFailure::into_error)
}

fn exec(conn: &mut (impl Connection + ?Sized), sql: &str) -> Result<()> {
    conn.exec(sql).map_err(SqlFailure::into_error)
}

pub fn table_exists(conn: &mut (impl Connection + ?Sized), name: &str) -> Result<bool> {
    Ok(!values(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &[Param::Text(name)])?.is_empty())
}

/// The version table's rows in rowid order; none when the table does not exist.
pub fn read_rows(conn: &mut (impl Connection + ?Sized), table: &str) -> Result<Vec<String>> {
    let sql = rows_sql(table);
    // One statement, not an existence check first: this runs on every page load.
    match conn.values(&sql, &[]) {
        Ok(rows) => Ok(rows.into_iter().map(Option::unwrap_or_default).collect()),
        Err(_) if !table_exists(conn, table)? => Ok(vec![]),
        // Outside a transaction another process may have created the table between
        // the two looks: ask again against the schema as it is now.
        Err(_) => values(conn, &sql, &[]),
    }
}

/// Recorded checksums by revision; empty when nothing was recorded yet.
pub fn checksums(conn: &mut (impl Connection + ?Sized), table: &str) -> Result<HashMap<String, String>> {
    if !table_exists(conn, HISTORY_TABLE)? {
        return Ok(HashMap::default());
    }
    let rows = values(conn, &checksums_sql(), &[Param::Text(table)])?;
    Ok(parse_checksums(rows.iter().map(String::as_str)))
}

/// A connection as a run's host, for the version table `table`.
pub struct SqlHost<'c, C: Connection + ?Sized> {
    pub conn: &'c mut C,
    pub table: &'c str,
    /// The host runs the whole run in a transaction of its own (a Durable Object's
    /// `transactionSync`): athanor opens none, and a failure is rolled back by the host.
    pub host_transaction: bool,
}

impl<'c, C: Connection + ?Sized> SqlHost<'c, C> {
    pub fn new(conn: &'c mut C, table: &'c str) -> Self {
        SqlHost { conn, table, host_transaction: false }
    }
}

impl<C: Connection + ?Sized> RunHost for SqlHost<'_, C> {
    fn read_rows(&mut self) -> Result<Vec<String>> {
        read_rows(self.conn, self.table)
    }

    fn read_history(&mut self) -> Result<HashMap<String, String>> {
        checksums(self.conn, self.table)
    }

    fn begin(&mut self) -> Result<()> {
        if self.host_transaction {
            return Ok(());
        }
        exec(self.conn, "BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> Result<()> {
        if self.host_transaction {
            return Ok(());
        }
        exec(self.conn, "COMMIT")
    }

    fn rollback(&mut self) {
        // SQLite may have rolled back already (some errors end the transaction).
        if !self.host_transaction && self.conn.in_transaction() != Some(false) {
            let _ = self.conn.exec("ROLLBACK");
        }
    }

    /// SQLite's `locking_mode = EXCLUSIVE`: locks outlive COMMIT, so the file stays
    /// locked between this connection's transactions (other connections' reads wait
    /// too). In WAL mode this needs the file alone: with another connection open, the
    /// next BEGIN ends LOCKED, before the section.
    fn hold_lock(&mut self) -> Result<bool> {
        if self.host_transaction {
            return Ok(false);
        }
        let mode = values(self.conn, "PRAGMA main.locking_mode", &[])?;
        // Already exclusive (the caller's setting, or a memory database): nothing to
        // take here, nor to give back.
        if mode.first().is_some_and(|m| m.eq_ignore_ascii_case("exclusive")) {
            return Ok(false);
        }
        exec(self.conn, "PRAGMA main.locking_mode = EXCLUSIVE")?;
        Ok(true)
    }

    fn release_lock(&mut self) -> Result<()> {
        exec(self.conn, "PRAGMA main.locking_mode = NORMAL")?;
        // NORMAL alone keeps the locks until the file is next accessed; inside an open
        // transaction they go when it ends.
        values(self.conn, "SELECT count(*) FROM sqlite_master", &[]).map(drop)
    }

    fn foreign_keys(&mut self) -> Result<i64> {
        let v = values(self.conn, "PRAGMA foreign_keys", &[])?;
        Ok(v.first().and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    fn set_foreign_keys(&mut self, value: i64) -> Result<()> {
        exec(self.conn, &format!("PRAGMA foreign_keys = {value}"))
    }

    fn in_transaction(&mut self) -> Option<bool> {
        if self.host_transaction {
            return None;
        }
        self.conn.in_transaction()
    }

    fn exec_all(&mut self, statements: &[Statement], keep_open: bool) -> std::result::Result<(), Stopped> {
        let sqls: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
        // The host's transaction: athanor checks none of its own.
        self.conn.exec_each(&sqls, keep_open && !self.host_transaction)
    }

    fn ensure_version_table(&mut self) -> Result<()> {
        if !table_exists(self.conn, self.table)? {
            exec(self.conn, &create_version_table(self.table))?;
        }
        Ok(())
    }

    fn change_row(&mut self, op: &VersionOp) -> Result<usize> {
        let (sql, params) = change_sql(self.table, op);
        let params: Vec<Param> = params.into_iter().map(Param::Text).collect();
        run(self.conn, &sql, &params)
    }

    /// Many rows per statement.
    fn record(&mut self, applied: &[(String, String, i64)]) -> Result<()> {
        if applied.is_empty() {
            return Ok(());
        }
        exec(self.conn, &history_table_sql())?;
        for chunk in applied.chunks(RECORD_ROWS) {
            let mut params = Vec::with_capacity(chunk.len() * 4);
            for (rev, sum, ms) in chunk {
                params.extend([Param::Text(self.table), Param::Text(rev), Param::Text(sum), Param::Int(*ms)]);
            }
            run(self.conn, &record_sql(chunk.len()), &params)?;
        }
        Ok(())
    }

    fn forget(&mut self, revisions: &[String]) -> Result<()> {
        let sql = forget_sql();
        for rev in revisions {
            run(self.conn, &sql, &[Param::Text(self.table), Param::Text(rev)])?;
        }
        Ok(())
    }

    fn purge(&mut self) -> Result<()> {
        if table_exists(self.conn, self.table)? {
            run(self.conn, &purge_sql(self.table), &[])?;
        }
        if table_exists(self.conn, HISTORY_TABLE)? {
            run(self.conn, &forget_all_sql(), &[Param::Text(self.table)])?;
        }
        Ok(())
    }

    fn now_ms(&self) -> f64 {
        self.conn.now_ms()
    }
}

/// After a failed run on a database file it may have created: is the file empty and
/// ours alone, so that removing it loses nothing? Takes an EXCLUSIVE lock without
/// waiting (any other connection's lock means the file is in use: theirs to keep),
/// then checks that the file holds nothing (no schema, no header settings) and that
/// `has_moved` says it is still the one at its path. On `true` the lock is held until
/// the connection closes; the caller removes the file before that, so no other
/// connection can be writing it meanwhile. A connection that opened the file and waits
/// for its lock finds it moved when it writes (the unix VFS's SQLITE_READONLY_DBMOVED)
/// rather than writing a file that is gone.
pub fn claim_if_empty<C: Connection + ?Sized>(conn: &mut C, has_moved: impl FnOnce(&mut C) -> bool) -> bool {
    if conn.exec("PRAGMA busy_timeout = 0").is_err() || conn.exec("BEGIN EXCLUSIVE").is_err() {
        return false;
    }
    // Under EXCLUSIVE a hot journal has been rolled back, so this is what is committed.
    // (page_count says 1 here: beginning a write transaction on an empty file readies
    // page 1 in memory.) In WAL mode EXCLUSIVE does not keep readers out: never removed.
    let empty = conn
        .values(
            "SELECT (SELECT count(*) FROM sqlite_schema) + (SELECT user_version FROM pragma_user_version) \
             + (SELECT application_id FROM pragma_application_id) + (SELECT journal_mode = 'wal' FROM pragma_journal_mode)",
            &[],
        )
        .is_ok_and(|v| v.first().is_some_and(|n| n.as_deref() == Some("0")));
    if empty && !has_moved(conn) {
        return true;
    }
    let _ = conn.exec("ROLLBACK");
    false
}
