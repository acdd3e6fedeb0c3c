//! A run as batches, for hosts that answer asynchronously and run a batch of statements
//! as one transaction (Cloudflare D1's `batch()`, libSQL's `batch(..., "write")`).
//!
//! The run is the core's ([`super::run::Run`]) over a host that executes nothing: it
//! answers from what was read before (the version table's rows, the recorded
//! checksums), follows the rows through the run's own writes, and collects every
//! statement. Each of the run's transactions becomes one batch, which starts with a
//! guard: a statement that fails, and so rolls the whole batch back, unless the version
//! table still holds the rows this batch was planned from. Two Workers racing on their
//! first requests therefore apply each migration once: the loser's batch changes
//! nothing, and it plans again from what the winner left.

use super::hash::HashMap;
use std::cell::Cell;

use super::error::Result;
use super::graph::RevisionMap;
use super::offline::create_version_table;
use super::plan::{self, Plan, Step, VersionOp};
use super::run::{Event, Options, Report, Run, RunHost, Stopped};
use super::statements::Statement;
use super::version_sql::{change_sql, forget_all_sql, forget_sql, history_table_sql, purge_sql, record_sql, rows_sql, RECORD_ROWS};

/// Where a migration statement came from, for the error when its batch fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub revision: String,
    pub file: String,
    pub line: usize,
    /// The statement without the comments above it.
    pub code: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BatchStatement {
    pub sql: String,
    pub params: Vec<String>,
    /// `None` for athanor's own statements (the guard, version and history writes).
    pub origin: Option<Origin>,
}

/// One transaction of the run: its statements, and which of the report's steps it
/// completes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Part {
    pub statements: Vec<BatchStatement>,
    /// Indexes of the report's steps this part completes.
    pub steps: Vec<usize>,
    first_step: usize,
    /// The version table's rows this part was planned from (what its guard checks).
    pub rows: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub parts: Vec<Part>,
    pub report: Report,
}

/// What was read before the run: `None` for a table that does not exist.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub rows: Option<Vec<String>>,
    pub history: Option<HashMap<String, String>>,
}

/// The guard that fails the batch unless the version table holds exactly `rows` (in
/// rowid order), or, for `None`, does not exist. It fails at run time (`json()` of
/// text that is not JSON), so it fails the batch on every host; a table dropped
/// meanwhile fails it when it is prepared.
fn guard(table: &str, rows: Option<&[String]>) -> BatchStatement {
    let fail = "'athanor: the version table moved'";
    match rows {
        Some(rows) => BatchStatement {
            sql: format!(
                "SELECT json(CASE WHEN (SELECT coalesce(group_concat(version_num, ' '), '') FROM ({})) = ? THEN '1' ELSE {fail} END)",
                rows_sql(table)
            ),
            params: vec![rows.join(" ")],
            origin: None,
        },
        None => BatchStatement {
            sql: format!("SELECT json(CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?) THEN {fail} ELSE '1' END)"),
            params: vec![table.to_string()],
            origin: None,
        },
    }
}

struct BatchHost<'m> {
    map: &'m RevisionMap,
    table: &'m str,
    rows: Vec<String>,
    table_exists: bool,
    history: HashMap<String, String>,
    history_exists: bool,
    parts: Vec<Part>,
    /// The step whose statements come next: its revision and file.
    current: Option<(String, String)>,
    /// Steps finished so far (counted by the run's events).
    finished: &'m Cell<usize>,
    /// Whether the last part is still taking statements.
    open: bool,
}

impl BatchHost<'_> {
    fn push(&mut self, sql: String, params: Vec<String>) {
        self.push_statement(BatchStatement { sql, params, origin: None });
    }

    /// A statement outside the run's transactions (a `transaction:false` section)
    /// opens a part, which its version row then joins: both are one batch.
    fn push_statement(&mut self, statement: BatchStatement) {
        if !self.open {
            self.open_part();
        }
        if let Some(part) = self.parts.last_mut() {
            part.statements.push(statement);
        }
    }

    fn open_part(&mut self) {
        let guard = guard(self.table, self.table_exists.then_some(&self.rows[..]));
        self.parts.push(Part { statements: vec![guard], steps: vec![], first_step: self.finished.get(), rows: self.rows.clone() });
        self.open = true;
    }
}

impl RunHost for BatchHost<'_> {
    fn read_rows(&mut self) -> Result<Vec<String>> {
        Ok(self.rows.clone())
    }

    fn read_history(&mut self) -> Result<HashMap<String, String>> {
        Ok(self.history.clone())
    }

    fn begin(&mut self) -> Result<()> {
        if !self.open {
            self.open_part();
        }
        Ok(())
    }

    /// A part that holds nothing but its guard is no batch at all.
    fn commit(&mut self) -> Result<()> {
        if self.open && self.parts.last().is_some_and(|p| p.statements.len() == 1) {
            self.parts.pop();
        }
        self.open = false;
        Ok(())
    }

    fn rollback(&mut self) {}

    /// A batch is one transaction: nothing can get in between its statements.
    fn hold_lock(&mut self) -> Result<bool> {
        Ok(false)
    }

    fn release_lock(&mut self) -> Result<()> {
        Ok(())
    }

    /// Neither host lets a batch switch foreign keys; a `transaction:false` section
    /// runs in a batch of its own, as it is.
    fn foreign_keys(&mut self) -> Result<i64> {
        Ok(0)
    }

    fn set_foreign_keys(&mut self, _value: i64) -> Result<()> {
        Ok(())
    }

    fn in_transaction(&mut self) -> Option<bool> {
        None
    }

    fn step_started(&mut self, step: &Step) {
        self.current = step.revision().map(|r| {
            let s = &self.map.node(r).script;
            (s.id.clone(), s.path.clone())
        });
    }

    fn exec_all(&mut self, statements: &[Statement], _keep_open: bool) -> std::result::Result<(), Stopped> {
        for statement in statements {
            let origin = self.current.as_ref().map(|(revision, file)| Origin {
                revision: revision.clone(),
                file: file.clone(),
                line: statement.line,
                code: statement.code().to_string(),
            });
            self.push_statement(BatchStatement { sql: statement.sql.clone(), params: vec![], origin });
        }
        Ok(())
    }

    fn ensure_version_table(&mut self) -> Result<()> {
        if !self.table_exists {
            self.push(create_version_table(self.table), vec![]);
            self.table_exists = true;
        }
        Ok(())
    }

    /// Counted on the rows as the guard found them and this run changed them: the
    /// count the statement will have in the batch.
    fn change_row(&mut self, op: &VersionOp) -> Result<usize> {
        let (sql, params) = change_sql(self.table, op);
        let params = params.into_iter().map(String::from).collect();
        let changed = match op {
            VersionOp::Insert(_) => 1,
            VersionOp::Delete(v) | VersionOp::Update { from: v, .. } => self.rows.iter().filter(|r| *r == v).count(),
        };
        self.rows = plan::apply_ops(std::mem::take(&mut self.rows), std::slice::from_ref(op));
        self.push(sql, params);
        Ok(changed)
    }

    fn record(&mut self, applied: &[(String, String, i64)]) -> Result<()> {
        if applied.is_empty() {
            return Ok(());
        }
        if !self.history_exists {
            self.push(history_table_sql(), vec![]);
            self.history_exists = true;
        }
        for chunk in applied.chunks(RECORD_ROWS) {
            let mut params = Vec::with_capacity(chunk.len() * 4);
            for (rev, sum, ms) in chunk {
                params.extend([self.table.to_string(), rev.clone(), sum.clone(), ms.to_string()]);
                self.history.insert(rev.clone(), sum.clone());
            }
            self.push(record_sql(chunk.len()), params);
        }
        Ok(())
    }

    fn forget(&mut self, revisions: &[String]) -> Result<()> {
        for rev in revisions {
            if self.history.contains_key(rev) {
                self.push(forget_sql(), vec![self.table.to_string(), rev.clone()]);
            }
        }
        self.history.retain(|r, _| !revisions.contains(r));
        Ok(())
    }

    fn purge(&mut self) -> Result<()> {
        if self.table_exists {
            self.push(purge_sql(self.table), vec![]);
        }
        if self.history_exists {
            self.push(forget_all_sql(), vec![self.table.to_string()]);
        }
        self.rows.clear();
        self.history.clear();
        Ok(())
    }

    fn now_ms(&self) -> f64 {
        0.0
    }
}

/// The run from what `seen` holds, as batches: none when there is nothing to do.
/// `verify`: the checksums of what is applied are checked first (not for a stamp).
/// With `options.transaction` per migration, each migration is a batch of its own
/// (for runs past a host's limits on one batch).
pub fn batch_run(map: &RevisionMap, options: &Options, seen: Seen, verify: bool, planner: &dyn Fn(&[String]) -> Result<Plan>) -> Result<Batch> {
    let finished = Cell::new(0);
    let mut host = BatchHost {
        map,
        finished: &finished,
        open: false,
        table: &options.version_table,
        table_exists: seen.rows.is_some(),
        rows: seen.rows.unwrap_or_default(),
        history_exists: seen.history.is_some(),
        history: seen.history.unwrap_or_default(),
        parts: vec![],
        current: None,
    };
    let mut on_event = |e: &Event| {
        if let Event::StepFinished { .. } = e {
            finished.set(finished.get() + 1);
        }
    };
    let report = Run::new(&mut host, map, options).run(verify, planner, &mut on_event)?;
    let mut parts = host.parts;
    let ends: Vec<usize> = parts.iter().skip(1).map(|p| p.first_step).chain([report.plan.steps.len()]).collect();
    for (part, end) in parts.iter_mut().zip(ends) {
        part.steps = (part.first_step..end).collect();
    }
    Ok(Batch { parts, report })
}
