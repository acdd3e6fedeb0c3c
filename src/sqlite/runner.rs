//! The embedded engine: runs the core's run ([`crate::core::run`]) on a rusqlite
//! connection (bundled SQLite natively, sqlite-wasm-rs in the wasm). This file only
//! executes: the order of steps, transactions, checks and bookkeeping are the core's.

use rusqlite::Connection;

use super::connection::Rusqlite;
use super::version_table as vt;
use crate::core::connection::SqlHost;
use crate::core::error::Result;
use crate::core::graph::RevisionMap;
use crate::core::plan::{self, Plan};
use crate::core::run::Run;
pub use crate::core::run::{Event, Options, Report, TransactionMode};

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
        self.run(true, &|rows| plan::plan_upgrade(self.map, rows, target), on_event)
    }

    pub fn downgrade(&self, target: &str, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        self.run(true, &|rows| plan::plan_downgrade(self.map, rows, target), on_event)
    }

    /// Runs the plan `planner` makes from the version table's rows (read under the
    /// lock, as every run), checksums verified: for plans the target syntax cannot say,
    /// such as [`crate::core::plan::plan_revisions`]'s one revision of one branch.
    pub fn run_plan(&self, planner: &dyn Fn(&[String]) -> Result<Plan>, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        self.run(true, planner, on_event)
    }

    /// Sets the version table without running migrations. Checksums are not verified
    /// (nothing runs); `purge` also forgets the recorded ones, which is how an edited
    /// migration is accepted.
    pub fn stamp(&self, targets: &[String], purge: bool) -> Result<Report> {
        self.run(false, &|rows| plan::plan_stamp(self.map, rows, targets, purge), &mut |_| {})
    }

    fn run(&self, verify: bool, planner: &dyn Fn(&[String]) -> Result<Plan>, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        let mut conn = Rusqlite(self.conn);
        let mut host = SqlHost::new(&mut conn, &self.options.version_table);
        let mut run = Run::new(&mut host, self.map, &self.options);
        #[cfg(all(test, not(target_arch = "wasm32")))]
        let mut between = tests::between_transactions;
        #[cfg(all(test, not(target_arch = "wasm32")))]
        {
            run.between = Some(&mut between);
        }
        run.run(verify, planner, on_event)
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
    use crate::core::error::Error;
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
