//! One run (upgrade, downgrade or stamp), written once for every host: a first look
//! without the lock, the plan made from the version table as read inside the lock, the
//! checksums of what is applied, each step's statements, where a `transaction:false`
//! section holds the lock and gets its version row at once, the version-table and
//! history writes (each must change exactly one row), the check that the run's
//! transaction is still open, and the plan made again when another migrator moved the
//! version table between per-migration transactions.
//!
//! It does no I/O: every read and write is a call on a [`RunHost`]: a SQLite connection
//! ([`super::connection::SqlHost`]: rusqlite, or a JS driver through the wasm), or for
//! D1 and libSQL, which answer asynchronously, [`super::batch::BatchHost`], which
//! collects the whole run as one batch with guards for what it was told. (An `async`
//! trait was tried: the run's state machine cost the wasm 5 KiB gzip.)

use std::collections::VecDeque;

use super::hash::HashMap;

use super::error::{Error, Result, StatementFailure};
use super::graph::RevisionMap;
use super::integrity;
use super::plan::{self, Plan, Step, StepKind, VersionOp};
use super::script::{checksums, Script, Section};
use super::statements::{split_statements, Statement};

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

/// A statement the host's SQLite refused: its message and, where the host reports it,
/// SQLite's extended result code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFailure {
    pub message: String,
    pub code: Option<i32>,
}

/// Where a section's statements stopped before the last: statement `at` failed, or (in
/// a transactional section) left no transaction open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    Failed { at: usize, failure: SqlFailure },
    Closed { at: usize },
}

/// What a run asks of a host's SQLite. The version table and history table are the
/// host's to read and write (their SQL is built in `core::version_sql`); which
/// writes happen, and when, is decided here.
pub trait RunHost {
    /// The version table's rows in rowid order; none when it does not exist.
    fn read_rows(&mut self) -> Result<Vec<String>>;
    /// The recorded checksums of applied revisions, by revision.
    fn read_history(&mut self) -> Result<HashMap<String, String>>;
    /// `BEGIN IMMEDIATE`: the write lock two migrators take turns on.
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    /// Rolls back whatever is open (nothing may be, after a failed statement).
    fn rollback(&mut self);
    /// Keeps the file locked across the next commits, until [`RunHost::release_lock`]:
    /// no other migrator may get in between a `transaction:false` step's check and its
    /// version row. False when the host holds nothing (already exclusive).
    fn hold_lock(&mut self) -> Result<bool>;
    fn release_lock(&mut self) -> Result<()>;
    /// The connection's `PRAGMA foreign_keys`, and setting it back after a section.
    fn foreign_keys(&mut self) -> Result<i64>;
    fn set_foreign_keys(&mut self, value: i64) -> Result<()>;
    /// Whether a transaction is open; `None` when the host cannot tell.
    fn in_transaction(&mut self) -> Option<bool>;
    /// Runs a section's statements in order, each to completion, stopping at the first
    /// that fails or, with `keep_open`, after which no transaction is open (where the
    /// host can tell). All at once: a JS host runs them in one call.
    fn exec_all(&mut self, statements: &[Statement], keep_open: bool) -> std::result::Result<(), Stopped>;
    /// The step whose statements come next (a host that collects statements notes
    /// where each came from).
    fn step_started(&mut self, _step: &Step) {}
    /// Creates the version table when missing.
    fn ensure_version_table(&mut self) -> Result<()>;
    /// Applies one change to the version table's rows: how many rows it changed.
    fn change_row(&mut self, op: &VersionOp) -> Result<usize>;
    /// Records applied revisions `(revision, checksum, ms)`.
    fn record(&mut self, applied: &[(String, String, i64)]) -> Result<()>;
    /// Forgets the history of revisions no longer applied.
    fn forget(&mut self, revisions: &[String]) -> Result<()>;
    /// Empties the version table and forgets its whole history (`stamp --purge`).
    fn purge(&mut self) -> Result<()>;
    /// A clock for the steps' durations, in milliseconds.
    fn now_ms(&self) -> f64;
}

/// What a run knows of the history table (checksums of applied revisions).
enum History {
    /// Holds only what the rows imply: pruned at a write of this run. Upgrades keep it
    /// so (they only add to what the rows imply); a downgrade or stamp may not.
    Clean,
    /// As read to verify checksums, in this transaction, before any write: may hold
    /// revisions that another tool moved the rows away from.
    Read(HashMap<String, String>),
    /// Not read in this transaction (a stamp), or another migrator moved the rows since.
    Unknown,
}

/// One run over `host`. `verify`: check the checksums of what is applied (not for a
/// stamp, which is how an edited migration is accepted). `planner`: the plan from the
/// version table's rows.
pub struct Run<'r> {
    /// Behind `dyn`: one copy of the run in the wasm, whichever hosts it serves.
    pub host: &'r mut dyn RunHost,
    pub map: &'r RevisionMap,
    pub options: &'r Options,
    /// Whether a transaction of ours is open, and whether we hold the file's lock: what
    /// a failure must give back.
    tx_open: bool,
    lock_held: bool,
    /// Called between two of our transactions (tests put a second migrator there).
    #[cfg(test)]
    pub between: Option<&'r mut dyn FnMut()>,
}

impl<'r> Run<'r> {
    pub fn new(host: &'r mut dyn RunHost, map: &'r RevisionMap, options: &'r Options) -> Run<'r> {
        Run {
            host,
            map,
            options,
            tx_open: false,
            lock_held: false,
            #[cfg(test)]
            between: None,
        }
    }

    /// The run; on failure what it holds is given back (the file's lock, then the open
    /// transaction: the database is as the last commit left it).
    pub fn run(&mut self, verify: bool, planner: &dyn Fn(&[String]) -> Result<Plan>, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        let result = self.steps(verify, planner, on_event);
        if result.is_err() {
            if std::mem::take(&mut self.lock_held) {
                let _ = self.host.release_lock();
            }
            if std::mem::take(&mut self.tx_open) {
                self.host.rollback();
            }
        }
        result
    }

    fn begin(&mut self) -> Result<()> {
        self.host.begin()?;
        self.tx_open = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.tx_open {
            self.host.commit()?;
            self.tx_open = false;
        }
        Ok(())
    }

    /// An applied revision whose file changed since is refused before anything runs. The
    /// history as read serves the run's first prune (same transaction, nothing written since).
    fn verify_checksums(&mut self, rows: &[String]) -> Result<History> {
        let recorded = self.host.read_history()?;
        integrity::verify_checksums(self.map, rows, &recorded)?;
        Ok(History::Read(recorded))
    }

    fn steps(&mut self, verify: bool, planner: &dyn Fn(&[String]) -> Result<Plan>, on_event: &mut dyn FnMut(&Event)) -> Result<Report> {
        // A look without the write lock first: most runs (a page load, a cold start)
        // find nothing to do, and then take no lock and hash nothing. Checksums guard
        // what runs; when nothing runs, an edit is reported by the next run that does.
        let seen = self.host.read_rows()?;
        let plan = planner(&seen)?;
        if plan.steps.is_empty() && !plan.purge {
            return Ok(Report { plan, step_ms: vec![] });
        }
        self.begin()?;
        let rows = self.host.read_rows()?;
        let mut plan = if rows == seen { plan } else { planner(&rows)? };
        let mut history = if verify { self.verify_checksums(&rows)? } else { History::Unknown };
        if plan.purge {
            self.host.purge()?;
            history = History::Clean;
        }
        let mut queue: VecDeque<Step> = std::mem::take(&mut plan.steps).into();
        let mut total = queue.len();
        let mut done: Vec<Step> = Vec::with_capacity(total);
        let mut step_ms = Vec::with_capacity(total);
        let mut expected = if plan.purge { vec![] } else { rows.clone() };
        // Version-table and history writes wait until the transaction is about to end:
        // the same transaction, so the same atomicity, but no statement re-prepared
        // after every schema change. `done[flushed..]`: the steps run since the last.
        let mut flushed = 0;
        let mut db_rows = expected.clone();
        while let Some(step) = queue.pop_front() {
            let index = done.len();
            let section = self.section(&step);
            let outside = section.filter(|s| !s.transactional);
            // Taken before the commit below: the lock of this run is never let go
            // between the check and the section's version row.
            if outside.is_some() {
                self.lock_held = self.host.hold_lock()?;
            }
            if outside.is_some() || (self.options.transaction == TransactionMode::PerMigration && index > 0) {
                self.flush(&done[flushed..], &step_ms[flushed..], &expected, &mut db_rows, &mut history)?;
                flushed = done.len();
                self.commit()?;
            }
            if !self.tx_open {
                #[cfg(test)]
                if let Some(between) = self.between.as_mut() {
                    between();
                }
                self.begin()?;
                let now = self.host.read_rows()?;
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
                    if std::mem::take(&mut self.lock_held) {
                        self.host.release_lock()?;
                    }
                    continue;
                }
            }
            on_event(&Event::StepStarted { index, total, step: &step });
            let started = self.host.now_ms();
            if let Some(s) = outside {
                // Checked under the lock taken above, which holds through this commit;
                // the section runs outside any transaction, then its version row.
                self.commit()?;
                self.run_outside_transaction(&step, s)?;
                self.begin()?;
            } else if let Some(s) = section {
                self.run_section(&step, s)?;
            }
            let ms = self.host.now_ms() - started;
            step_ms.push(ms);
            expected = plan::apply_ops(expected, &step.ops);
            on_event(&Event::StepFinished { index, total, step: &step, ms });
            done.push(step);
            if outside.is_some() {
                // The section's work is committed already: its version row follows at
                // once, not with later steps, whose failure would roll the row back and
                // leave the section applied but unrecorded (to run again next time).
                self.flush(&done[flushed..], &step_ms[flushed..], &expected, &mut db_rows, &mut history)?;
                flushed = done.len();
                self.commit()?;
            }
            if std::mem::take(&mut self.lock_held) {
                self.host.release_lock()?;
            }
        }
        self.flush(&done[flushed..], &step_ms[flushed..], &expected, &mut db_rows, &mut history)?;
        self.commit()?;
        Ok(Report { plan: Plan { steps: done, after: expected, ..plan }, step_ms })
    }

    fn section(&self, step: &Step) -> Option<&'r Section> {
        match step.kind {
            StepKind::Upgrade(r) => Some(&self.map.node(r).script.upgrade),
            StepKind::Downgrade(r) => self.map.node(r).script.downgrade.as_ref(),
            StepKind::Stamp => None,
        }
    }

    /// Writes the version-table changes and history of `pending`, the steps run since
    /// the last flush (`step_ms`: how long each took): their net effect on `db_rows` (the
    /// rows as the database holds them), which become `after` (the rows the run expects
    /// after them), and the history pruned to what the rows now imply.
    fn flush(&mut self, pending: &[Step], step_ms: &[f64], after: &[String], db_rows: &mut Vec<String>, history: &mut History) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        // Upgrades only add to what the rows imply; a downgrade or a stamp may take away.
        let may_take_away = pending.iter().any(|s| !matches!(s.kind, StepKind::Upgrade(_)));
        let ops = pending.iter().flat_map(|s| &s.ops);
        let net = plan::net_ops(db_rows, ops.clone()).unwrap_or_else(|| ops.cloned().collect());
        if net.iter().any(|op| matches!(op, VersionOp::Insert(_))) {
            self.host.ensure_version_table()?;
        }
        for op in &net {
            let changed = self.host.change_row(op)?;
            if changed != 1 {
                return Err(self.not_one_row(op, changed));
            }
        }
        let mut applied: Vec<(String, String, i64)> = Vec::new();
        let mut scripts: Vec<&Script> = Vec::new();
        for (step, ms) in pending.iter().zip(step_ms) {
            if let StepKind::Upgrade(r) = step.kind {
                let s = &self.map.node(r).script;
                applied.push((s.id.clone(), String::new(), ms.round() as i64));
                scripts.push(s);
            }
        }
        // Hashed together: the CLI's wasm does four at once (core::sha256).
        for (a, sum) in applied.iter_mut().zip(checksums(&scripts)) {
            a.1 = sum;
        }
        self.host.record(&applied)?;
        *db_rows = after.to_vec();
        // With the version-table writes, so no commit keeps the history of revisions its
        // rows no longer imply (downgraded, or moved away from by another tool). Read
        // again only when that can have changed: reading it at each of 1,000
        // per-migration commits cost a fifth of the run.
        let recorded = match std::mem::replace(history, History::Clean) {
            History::Clean if !may_take_away => return Ok(()),
            History::Read(recorded) => recorded,
            _ => self.host.read_history()?,
        };
        if recorded.is_empty() {
            // Nothing recorded before this run: nothing it recorded is stale.
            return Ok(());
        }
        self.host.forget(&integrity::stale(self.map, db_rows, recorded.keys()))
    }

    /// A version-table change must touch exactly one row, as Alembic checks.
    fn not_one_row(&self, op: &VersionOp, changed: usize) -> Error {
        let what = match op {
            VersionOp::Insert(v) => format!("inserting '{v}'"),
            VersionOp::Delete(v) => format!("deleting '{v}'"),
            VersionOp::Update { from, to } => format!("updating '{from}' to '{to}'"),
        };
        let table = &self.options.version_table;
        Error::VersionTable(format!("Online migration expected to match one row when {what} in '{table}'; {changed} found"))
    }

    /// A `transaction:false` section: it may open its own transaction and switch
    /// `PRAGMA foreign_keys` (a table rebuild does both). Whatever it leaves open on
    /// failure is rolled back, and the connection's foreign-key setting is restored.
    fn run_outside_transaction(&mut self, step: &Step, section: &Section) -> Result<()> {
        let fk = self.host.foreign_keys()?;
        let mut result = self.run_section(step, section);
        let open = self.host.in_transaction();
        // A host that cannot tell gets a ROLLBACK after a failure anyway (SQLite refuses
        // it harmlessly when nothing is open): a setting cannot be restored inside a
        // transaction the section left open.
        if open.is_none() && result.is_err() {
            self.host.rollback();
        }
        if open == Some(true) {
            self.host.rollback();
            if result.is_ok() {
                result = Err(Error::VersionTable(format!(
                    "the transaction:false section of {} left a transaction open; it was rolled back",
                    step.revision().map(|r| self.map.id(r)).unwrap_or("?")
                )));
            }
        }
        self.host.set_foreign_keys(fk)?;
        result
    }

    /// Runs a section statement by statement; a failure names revision, file and line.
    fn run_section(&mut self, step: &Step, section: &Section) -> Result<()> {
        let Some(rev) = step.revision() else { return Ok(()) };
        let script = &self.map.node(rev).script;
        self.host.step_started(step);
        let statements = split_statements(&section.sql, section.first_line);
        if statements.is_empty() {
            return Ok(());
        }
        let (at, failure) = match self.host.exec_all(&statements, section.transactional) {
            Ok(()) => return Ok(()),
            Err(Stopped::Failed { at, failure }) => (at, failure),
            // Files with such statements are refused when read; this catches anything
            // else that ends the run's transaction, before a version row could be
            // written for work that is no longer in it.
            Err(Stopped::Closed { at }) => (
                at,
                SqlFailure {
                    message: "the statement ended the migration's transaction (nothing after it was run; the run is stopped)".into(),
                    code: None,
                },
            ),
        };
        let st = &statements[at];
        Err(Error::MigrationFailed(Box::new(StatementFailure {
            revision: script.id.clone(),
            file: script.path.clone(),
            line: st.line,
            statement: st.code().to_string(),
            sqlite_message: failure.message,
            sqlite_code: failure.code,
        })))
    }
}
