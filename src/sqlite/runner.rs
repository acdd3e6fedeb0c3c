//! Runs plans on a SQLite connection: the lock is taken first (`BEGIN IMMEDIATE`),
//! the version table is read inside it, the plan is made from what was read, and every
//! script runs with its version-table change in the same transaction.

use rusqlite::Connection;

use super::{sql_error, version_table as vt};
use crate::core::error::{Error, Result, StatementFailure};
use crate::core::graph::RevisionMap;
use crate::core::integrity;
use crate::core::plan::{self, Plan, Step, StepKind};
use crate::core::script::Section;
use crate::core::statements::split_statements;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionMode {
    /// The whole run in one transaction: a failure leaves the database as it was.
    #[default]
    All,
    /// One transaction per migration (Alembic's `transaction_per_migration`).
    PerMigration,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub version_table: String,
    pub transaction: TransactionMode,
}

impl Default for Options {
    fn default() -> Self {
        Options { version_table: "alembic_version".into(), transaction: TransactionMode::All }
    }
}

/// Progress, reported before and after each step.
#[derive(Debug)]
pub enum Event<'a> {
    StepStarted { index: usize, total: usize, step: &'a Step },
    StepFinished { index: usize, total: usize, step: &'a Step, ms: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub plan: Plan,
    /// Milliseconds each step took, in plan order.
    pub step_ms: Vec<f64>,
}

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    }
}

/// An open `BEGIN IMMEDIATE` that rolls back unless committed, on every path.
struct Tx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Tx<'c> {
    fn begin(conn: &'c Connection) -> Result<Tx<'c>> {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_error)?;
        Ok(Tx { conn, open: true })
    }
    fn commit(&mut self) -> Result<()> {
        if self.open {
            self.conn.execute_batch("COMMIT").map_err(sql_error)?;
            self.open = false;
        }
        Ok(())
    }
    fn rollback(&mut self) {
        if self.open {
            // The connection may already have rolled back on error; that is fine.
            let _ = self.conn.execute_batch("ROLLBACK");
            self.open = false;
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        self.rollback();
    }
}

/// Keeps the file locked between this connection's transactions (SQLite's
/// `locking_mode = EXCLUSIVE`: locks outlive COMMIT), so that no other migrator gets
/// in between a transaction:false step's check and its version row while the section
/// runs outside any transaction; other connections' reads wait meanwhile too. Given
/// back on every path, failures included (Drop). In WAL mode this needs the file
/// alone: with another connection open, the next BEGIN ends LOCKED, before the section.
struct HeldLock<'c> {
    conn: &'c Connection,
    held: bool,
}

impl<'c> HeldLock<'c> {
    fn take(conn: &'c Connection) -> Result<HeldLock<'c>> {
        let mode: String = conn.query_row("PRAGMA main.locking_mode", [], |r| r.get(0)).map_err(sql_error)?;
        // Already exclusive (the caller's setting, or a memory database): nothing to
        // take here, nor to give back.
        let held = !mode.eq_ignore_ascii_case("exclusive");
        if held {
            conn.execute_batch("PRAGMA main.locking_mode = EXCLUSIVE").map_err(sql_error)?;
        }
        Ok(HeldLock { conn, held })
    }

    fn release(mut self) -> Result<()> {
        self.give_back()
    }

    fn give_back(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.held) {
            return Ok(());
        }
        self.conn.execute_batch("PRAGMA main.locking_mode = NORMAL").map_err(sql_error)?;
        // NORMAL alone keeps the locks until the file is next accessed; inside an open
        // transaction they go when it ends.
        self.conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).map_err(sql_error)
    }
}

impl Drop for HeldLock<'_> {
    fn drop(&mut self) {
        let _ = self.give_back();
    }
}

/// What a run knows of the history table (checksums of applied revisions).
enum History {
    /// Holds only what the rows imply: pruned at a write of this run. Upgrades keep it
    /// so (they only add to what the rows imply); a downgrade or stamp may not.
    Clean,
    /// As read to verify checksums, in this transaction, before any write: may hold
    /// revisions that another tool moved the rows away from.
    Read(std::collections::HashMap<String, String>),
    /// Not read in this transaction (a stamp), or another migrator moved the rows since.
    Unknown,
}

/// A migration engine over one connection and one revision map.
pub struct Engine<'a> {
    pub conn: &'a Connection,
    pub map: &'a RevisionMap,
    pub options: Options,
}

impl<'a> Engine<'a> {
    pub fn new(conn: &'a Connection, map: &'a RevisionMap, options: Options) -> Engine<'a> {
        Engine { conn, map, options }
    }

    /// The version table's rows (rowid order), read without taking the write lock.
    pub fn current_rows(&self) -> Result<Vec<String>> {
        vt::read_rows(self.conn, &self.options.version_table)
    }

    pub fn upgrade(&self, target: &str, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        self.run(|rows| plan::plan_upgrade(self.map, rows, target), on_event)
    }

    pub fn downgrade(&self, target: &str, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        self.run(|rows| plan::plan_downgrade(self.map, rows, target), on_event)
    }

    /// Sets the version table without running migrations. Checksums are not verified
    /// (nothing runs); `purge` also forgets the recorded ones, which is how an edited
    /// migration is accepted.
    pub fn stamp(&self, targets: &[String], purge: bool) -> Result<Report> {
        self.run_checked(false, &|rows| plan::plan_stamp(self.map, rows, targets, purge), &mut |_| {})
    }

    /// An applied revision whose file changed since is refused before anything runs. The
    /// history as read serves the run's first prune (same transaction, nothing written since).
    fn verify_checksums(&self, rows: &[String]) -> Result<History> {
        let recorded = vt::checksums(self.conn, &self.options.version_table)?;
        integrity::verify_checksums(self.map, rows, &recorded)?;
        Ok(History::Read(recorded))
    }

    fn run(&self, planner: impl Fn(&[String]) -> Result<Plan>, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        self.run_checked(true, &planner, on_event)
    }

    /// One body for upgrade, downgrade and stamp (`planner` as a trait object: a copy
    /// per caller cost the wasm 10 KB).
    fn run_checked(&self, verify: bool, planner: &dyn Fn(&[String]) -> Result<Plan>, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        let table = &self.options.version_table;
        // A look without the write lock first: most runs (a page load, a cold start)
        // find nothing to do, and then take no lock and hash nothing. Checksums guard
        // what runs; when nothing runs, an edit is reported by the next run that does.
        let seen = vt::read_rows(self.conn, table)?;
        let plan = planner(&seen)?;
        if plan.steps.is_empty() && !plan.purge {
            return Ok(Report { plan, step_ms: vec![] });
        }
        let mut tx = Tx::begin(self.conn)?;
        let rows = vt::read_rows(self.conn, table)?;
        let plan = if rows == seen { plan } else { planner(&rows)? };
        let mut history = if verify { self.verify_checksums(&rows)? } else { History::Unknown };
        if plan.purge {
            vt::purge(self.conn, table)?;
            vt::forget_all(self.conn, table)?;
            history = History::Clean;
        }
        let mut queue: std::collections::VecDeque<Step> = plan.steps.iter().cloned().collect();
        let mut total = queue.len();
        let mut done: Vec<Step> = Vec::with_capacity(total);
        let mut step_ms = Vec::with_capacity(total);
        let mut expected = if plan.purge { vec![] } else { rows.clone() };
        // Version-table and history writes wait until the transaction is about to end:
        // the same transaction, so the same atomicity, but no statement re-prepared
        // after every schema change.
        let mut pending: Vec<(Step, f64)> = Vec::new();
        let mut db_rows = expected.clone();
        while let Some(step) = queue.pop_front() {
            let index = done.len();
            let section = self.section(&step);
            let outside = section.filter(|s| !s.transactional);
            // Taken before the commit below: the lock of this run is never let go
            // between the check and the section's version row.
            let hold = outside.map(|_| HeldLock::take(self.conn)).transpose()?;
            if outside.is_some() || (self.options.transaction == TransactionMode::PerMigration && index > 0) {
                self.flush(&mut pending, &mut db_rows, &mut history)?;
                tx.commit()?;
            }
            if !tx.open {
                #[cfg(all(test, not(target_arch = "wasm32")))]
                tests::between_transactions();
                tx = Tx::begin(self.conn)?;
                let now = vt::read_rows(self.conn, table)?;
                if now != expected {
                    // Another migrator moved the version table between our transactions:
                    // plan again from where it stands and go on with what is left, once
                    // what it applied is checked as at the start.
                    let again = planner(&now)?;
                    history = if verify { self.verify_checksums(&now)? } else { History::Unknown };
                    queue = again.steps.into_iter().collect();
                    total = index + queue.len();
                    expected = now.clone();
                    db_rows = now;
                    continue;
                }
            }
            on_event(&Event::StepStarted { index, total, step: &step });
            let started = now_ms();
            if let Some(s) = outside {
                // Checked under the lock above, which `hold` keeps through this commit;
                // the section runs outside any transaction, then its version row.
                tx.commit()?;
                self.run_outside_transaction(&step, s)?;
                tx = Tx::begin(self.conn)?;
            } else if let Some(s) = section {
                self.run_section(&step, s)?;
            }
            let ms = now_ms() - started;
            step_ms.push(ms);
            expected = plan::apply_ops(expected, &step.ops);
            on_event(&Event::StepFinished { index, total, step: &step, ms });
            pending.push((step.clone(), ms));
            done.push(step);
            if outside.is_some() {
                // The section's work is committed already: its version row follows at
                // once, not with later steps, whose failure would roll the row back and
                // leave the section applied but unrecorded (to run again next time).
                self.flush(&mut pending, &mut db_rows, &mut history)?;
                tx.commit()?;
            }
            if let Some(hold) = hold {
                hold.release()?;
            }
        }
        self.flush(&mut pending, &mut db_rows, &mut history)?;
        tx.commit()?;
        Ok(Report { plan: Plan { steps: done, after: expected, ..plan }, step_ms })
    }

    fn section(&self, step: &Step) -> Option<&'a Section> {
        match step.kind {
            StepKind::Upgrade(r) => Some(&self.map.node(r).script.upgrade),
            StepKind::Downgrade(r) => self.map.node(r).script.downgrade.as_ref(),
            StepKind::Stamp => None,
        }
    }

    /// Writes the version-table changes and history of the steps run since the last
    /// flush: their net effect on `db_rows` (the rows as the database holds them), and
    /// the history pruned to what the rows now imply.
    fn flush(&self, pending: &mut Vec<(Step, f64)>, db_rows: &mut Vec<String>, history: &mut History) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        // Upgrades only add to what the rows imply; a downgrade or a stamp may take away.
        let may_take_away = pending.iter().any(|(s, _)| !matches!(s.kind, StepKind::Upgrade(_)));
        let table = &self.options.version_table;
        let ops: Vec<plan::VersionOp> = pending.iter().flat_map(|(s, _)| s.ops.iter().cloned()).collect();
        let net = plan::net_ops(db_rows, &ops).unwrap_or_else(|| ops.clone());
        if net.iter().any(|op| matches!(op, plan::VersionOp::Insert(_))) {
            vt::ensure(self.conn, table)?;
        }
        for op in &net {
            vt::apply(self.conn, table, op)?;
        }
        let applied: Vec<(String, String, i64)> = pending
            .iter()
            .filter_map(|(step, ms)| match step.kind {
                StepKind::Upgrade(r) => {
                    let s = &self.map.node(r).script;
                    Some((s.id.clone(), s.checksum(), ms.round() as i64))
                }
                _ => None,
            })
            .collect();
        vt::record(self.conn, table, &applied)?;
        for (step, _) in pending.drain(..) {
            *db_rows = plan::apply_ops(std::mem::take(db_rows), &step.ops);
        }
        // With the version-table writes, so no commit keeps the history of revisions its
        // rows no longer imply (downgraded, or moved away from by another tool). Read
        // again only when that can have changed: reading it at each of 1,000
        // per-migration commits cost a fifth of the run.
        let recorded = match std::mem::replace(history, History::Clean) {
            History::Clean if !may_take_away => return Ok(()),
            History::Read(recorded) => recorded,
            _ => vt::checksums(self.conn, table)?,
        };
        vt::forget(self.conn, table, &integrity::stale(self.map, db_rows, recorded.keys()))
    }

    /// A `transaction:false` section: it may open its own transaction and switch
    /// `PRAGMA foreign_keys` (a table rebuild does both). Whatever it leaves open on
    /// failure is rolled back, and the connection's foreign-key setting is restored.
    fn run_outside_transaction(&self, step: &Step, section: &Section) -> Result<()> {
        let fk: i64 = self.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).map_err(sql_error)?;
        let mut result = self.run_section(step, section);
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
            if result.is_ok() {
                result = Err(Error::VersionTable(format!(
                    "the transaction:false section of {} left a transaction open; it was rolled back",
                    step.revision().map(|r| self.map.id(r)).unwrap_or("?")
                )));
            }
        }
        self.conn.execute_batch(&format!("PRAGMA foreign_keys = {fk}")).map_err(sql_error)?;
        result
    }

    /// Runs a section statement by statement; a failure names revision, file and line.
    fn run_section(&self, step: &Step, section: &Section) -> Result<()> {
        let Some(rev) = step.revision() else { return Ok(()) };
        let script = &self.map.node(rev).script;
        for st in split_statements(&section.sql, section.first_line) {
            let (failure, code) = match execute_one(self.conn, &st.sql) {
                Err(e) => (sqlite_message(&e), super::sqlite_code(&e)),
                // Files with such statements are refused when read; this catches
                // anything else that ends the run's transaction, before a version row
                // could be written for work that is no longer in it.
                Ok(()) if section.transactional && self.conn.is_autocommit() => {
                    ("the statement ended the migration's transaction (nothing after it was run; the run is stopped)".to_string(), None)
                }
                Ok(()) => continue,
            };
            return Err(Error::MigrationFailed(Box::new(StatementFailure {
                revision: script.id.clone(),
                file: script.path.clone(),
                line: st.line,
                statement: st.code().to_string(),
                sqlite_message: failure,
                sqlite_code: code,
            })));
        }
        Ok(())
    }
}

/// SQLite's own message, without rusqlite's copy of the statement.
pub fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

/// Runs one statement to completion, draining any rows it returns
/// (`PRAGMA foreign_key_check` answers with rows, not an error).
pub fn execute_one(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut st = match conn.prepare(sql) {
        Ok(st) => st,
        Err(rusqlite::Error::Empty) => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut rows = st.raw_query();
    while rows.next()?.is_some() {}
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::core::source::from_text;

    thread_local! {
        static BETWEEN: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
    }

    /// Where another migrator can act during a run: after one of its transactions
    /// commits, before the next begins. Nothing outside the engine runs there, so a test
    /// puts its second migrator in (once).
    pub(super) fn between_transactions() {
        if let Some(f) = BETWEEN.take() {
            f();
        }
    }

    /// A → B → C, B's upgrade as given.
    fn map(b_up: &str) -> RevisionMap {
        let script = |id: &str, revises: &str, up: &str| {
            from_text(&format!("{id}_step.sql"), &format!("-- Revision ID: {id}\n-- Revises: {revises}\n\n-- migrate:upgrade\n{up}\n")).unwrap()
        };
        RevisionMap::new(vec![
            script("aaaa0001", "", "CREATE TABLE a (x);"),
            script("bbbb0002", "aaaa0001", b_up),
            script("cccc0003", "bbbb0002", "CREATE TABLE c (x);"),
        ])
        .unwrap()
    }

    /// Such files are refused when read; a script built in memory gets past that, and
    /// the runner stops at the statement instead of recording B over a rolled-back A.
    #[test]
    fn a_statement_that_ends_the_transaction_stops_the_run() {
        let mut scripts: Vec<_> = map("CREATE TABLE b (x);").nodes.iter().map(|n| n.script.clone()).collect();
        scripts[1].upgrade.sql = "ROLLBACK;\nCREATE TABLE b (x);".into();
        let map = RevisionMap::new(scripts).unwrap();
        let conn = Connection::open_in_memory().unwrap();
        let err = Engine::new(&conn, &map, Options::default()).upgrade("heads", &mut |_| {}).unwrap_err();
        let Error::MigrationFailed(f) = &err else { panic!("{err:?}") };
        assert_eq!((f.revision.as_str(), f.line, f.statement.as_str()), ("bbbb0002", 5, "ROLLBACK;"));
        assert!(f.sqlite_message.starts_with("the statement ended the migration's transaction"), "{}", f.sqlite_message);
        assert!(conn.is_autocommit());
        for table in ["a", "b", "alembic_version"] {
            assert!(!vt::table_exists(&conn, table).unwrap(), "{table}");
        }
    }

    #[test]
    fn a_run_that_plans_again_verifies_what_another_migrator_applied_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        // The other migrator, on its own connection, has another B (an edited file) and
        // applies it between our A and our B.
        let path = db.clone();
        BETWEEN.set(Some(Box::new(move || {
            let conn = Connection::open(path).unwrap();
            let theirs = map("CREATE TABLE b (x, y);");
            let report = Engine::new(&conn, &theirs, Options::default()).upgrade("bbbb0002", &mut |_| {}).unwrap();
            assert_eq!(report.plan.steps.len(), 1, "the other migrator found A applied");
        })));
        let conn = Connection::open(&db).unwrap();
        let ours = map("CREATE TABLE b (x);");
        let options = Options { transaction: TransactionMode::PerMigration, ..Options::default() };
        let err = Engine::new(&conn, &ours, options).upgrade("heads", &mut |_| {}).unwrap_err();
        assert!(matches!(&err, Error::ChecksumMismatch { revision, .. } if revision == "bbbb0002"), "{err:?}");
        assert!(BETWEEN.take().is_none(), "the other migrator ran");
        // Refused before C: the rows are the other migrator's, and c was never built.
        assert_eq!(vt::read_rows(&conn, "alembic_version").unwrap(), ["bbbb0002"]);
        assert!(!vt::table_exists(&conn, "c").unwrap());
    }
}
