//! `athanor test`: every revision's round trip on a scratch database, never the user's.
//! In upgrade order, each revision is upgraded alone, downgraded, its schema compared
//! with the one before its upgrade (autogenerate's model and diff), and upgraded again;
//! then the whole history goes down to base (the schema must be empty again) and up to
//! the heads (the schema must be the walk's). The first failure ends the test. A
//! revision without a downgrade section is reported and skipped, and then the full cycle
//! is skipped too (it cannot reach base). The run is the real runner's, version table
//! and all, one revision per run ([`plan_revisions`]).

use rusqlite::Connection;

use super::seed::Seeder;
use crate::autogen::{describe, diff, Schema};
use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::core::plan::{plan_revisions, plan_upgrade};
use crate::core::run::Report;
use crate::core::version_sql::HISTORY_TABLE;
use crate::sqlite::runner::{Engine, Options, TransactionMode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOptions {
    /// The version table the scratch database gets (athanor's own tables are never
    /// part of a compared schema).
    pub version_table: String,
    /// Insert rows into every table before each step ([`Seeder`]).
    pub seed: bool,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions { version_table: "alembic_version".into(), seed: false }
    }
}

/// Which step of the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The revision's upgrade, from its parents.
    Upgrade,
    /// Its downgrade, right after.
    Downgrade,
    /// Its upgrade once more.
    UpgradeAgain,
    /// The whole history down to base, after the walk.
    DowngradeToBase,
    /// And up to the heads again.
    UpgradeToHeads,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Upgrade => "upgrade",
            Phase::Downgrade => "downgrade",
            Phase::UpgradeAgain => "second upgrade",
            Phase::DowngradeToBase => "downgrade to base",
            Phase::UpgradeToHeads => "upgrade to heads",
        }
    }
}

/// What went wrong at a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The run failed: `MIGRATION_FAILED` names the revision, file, line and statement.
    Failed(Error),
    /// The schema after the step is not the one expected (for a revision's downgrade,
    /// the one before its upgrade; for the downgrade to base, the empty one; for the
    /// upgrade to heads, the one the walk reached). `changes`: autogenerate's words for
    /// going from the expected schema to this one ("add column t.x": the step left a
    /// column `x` that was not there), without their hints on what a migration would do.
    SchemaDiffers { changes: Vec<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub phase: Phase,
    /// The revision whose step failed (the per-revision phases); its file.
    pub revision: Option<(String, String)>,
    pub problem: Problem,
}

impl Failure {
    /// The failure as the CLI reports it (`ROUND_TRIP_FAILED`).
    pub fn to_error(&self) -> Error {
        let step = match &self.revision {
            Some((id, file)) => format!("{} of {id} ({file})", self.phase.name()),
            None => self.phase.name().to_string(),
        };
        let reason = match &self.problem {
            Problem::Failed(e) => e.to_string(),
            Problem::SchemaDiffers { changes } => {
                let what = match self.phase {
                    Phase::DowngradeToBase => "the schema is not empty again; from empty to what is left",
                    Phase::UpgradeToHeads => "the schema is not the one the revision-by-revision upgrade reached; from that one to this",
                    _ => "it does not restore the schema; from the one before the upgrade to the one after the downgrade",
                };
                format!("{what}: {}", changes.join("; "))
            }
        };
        Error::RoundTripFailed { step, revision: self.revision.as_ref().map(|r| r.0.clone()), reason }
    }
}

/// One revision's result, in the order tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tested {
    pub revision: usize,
    /// `false`: no downgrade section; reported and skipped.
    pub reversible: bool,
}

/// The full cycle after the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cycle {
    Passed,
    /// Irreversible revisions: base cannot be reached.
    Skipped,
    /// A failure came first (or the cycle itself failed: see [`TestReport::failure`]).
    NotPassed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestReport {
    /// The revisions whose round trip passed or was skipped, in the order tested (the
    /// failing one is not among them).
    pub tested: Vec<Tested>,
    pub cycle: Cycle,
    /// The first failure; `None` when the test passed.
    pub failure: Option<Failure>,
    /// With `seed`: the tables that took no row, with SQLite's reason (each once).
    pub unseeded: Vec<(String, String)>,
}

impl TestReport {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Tests `map`'s history on a fresh in-memory database.
pub fn test_history(map: &RevisionMap, options: &TestOptions) -> Result<TestReport> {
    test_on(&crate::autogen::memory()?, map, options)
}

/// Tests `map`'s history on `conn`, an empty database the caller opened (with its SQL
/// functions registered, or foreign keys on, as the app's connections have them).
/// `Err` only when the test itself could not run (a schema that cannot be read);
/// what the migrations do wrong is in the report.
pub fn test_on(conn: &Connection, map: &RevisionMap, options: &TestOptions) -> Result<TestReport> {
    let t = Tester {
        conn,
        map,
        engine: Engine::new(conn, map, Options { version_table: options.version_table.clone(), transaction: TransactionMode::All }),
        exclude: [&options.version_table, HISTORY_TABLE],
        seeder: options.seed.then(Seeder::default),
        report: TestReport { tested: vec![], cycle: Cycle::NotPassed, failure: None, unseeded: vec![] },
    };
    t.run()
}

struct Tester<'a> {
    conn: &'a Connection,
    map: &'a RevisionMap,
    engine: Engine<'a>,
    exclude: [&'a str; 2],
    seeder: Option<Seeder>,
    report: TestReport,
}

impl Tester<'_> {
    fn run(mut self) -> Result<TestReport> {
        let order: Vec<usize> = plan_upgrade(self.map, &[], "heads")?.steps.iter().filter_map(|s| s.revision()).collect();
        let empty = self.schema()?;
        for &r in &order {
            if !self.round_trip(r)? {
                return Ok(self.report);
            }
        }
        if self.report.tested.iter().any(|t| !t.reversible) {
            self.report.cycle = Cycle::Skipped;
            return Ok(self.report);
        }
        let heads = self.schema()?;
        let base = self.step(None, Phase::DowngradeToBase, |e| e.downgrade("base", &mut |_| {}))?;
        if !(base && self.compare(None, Phase::DowngradeToBase, &empty)?) {
            return Ok(self.report);
        }
        let up = self.step(None, Phase::UpgradeToHeads, |e| e.upgrade("heads", &mut |_| {}))?;
        if up && self.compare(None, Phase::UpgradeToHeads, &heads)? {
            self.report.cycle = Cycle::Passed;
        }
        Ok(self.report)
    }

    /// One revision's upgrade, downgrade, comparison and upgrade again; `false` when it failed.
    fn round_trip(&mut self, r: usize) -> Result<bool> {
        let one = [r];
        let before = self.schema()?;
        if !self.step(Some(r), Phase::Upgrade, |e| e.run_plan(&|rows| plan_revisions(e.map, rows, &one, true), &mut |_| {}))? {
            return Ok(false);
        }
        if self.map.node(r).script.downgrade.is_none() {
            self.report.tested.push(Tested { revision: r, reversible: false });
            return Ok(true);
        }
        if !self.step(Some(r), Phase::Downgrade, |e| e.run_plan(&|rows| plan_revisions(e.map, rows, &one, false), &mut |_| {}))? {
            return Ok(false);
        }
        if !self.compare(Some(r), Phase::Downgrade, &before)? {
            return Ok(false);
        }
        if !self.step(Some(r), Phase::UpgradeAgain, |e| e.run_plan(&|rows| plan_revisions(e.map, rows, &one, true), &mut |_| {}))? {
            return Ok(false);
        }
        self.report.tested.push(Tested { revision: r, reversible: true });
        Ok(true)
    }

    /// Seeds (with `seed`), then runs one step; a failed run is the report's failure.
    fn step(&mut self, r: Option<usize>, phase: Phase, run: impl FnOnce(&Engine) -> Result<Report>) -> Result<bool> {
        if let Some(seeder) = &mut self.seeder {
            let schema = Schema::read(self.conn, &self.exclude)?;
            for (table, reason) in seeder.seed(self.conn, &schema)? {
                if !self.report.unseeded.iter().any(|(t, _)| *t == table) {
                    self.report.unseeded.push((table, reason));
                }
            }
        }
        match run(&self.engine) {
            Ok(_) => Ok(true),
            Err(e) => {
                self.fail(r, phase, Problem::Failed(e));
                Ok(false)
            }
        }
    }

    /// Whether the schema now is `expected`; if not, the report's failure.
    fn compare(&mut self, r: Option<usize>, phase: Phase, expected: &Schema) -> Result<bool> {
        let changes: Vec<String> = describe(&diff(expected, &self.schema()?)).iter().map(|c| without_hint(c).to_string()).collect();
        if changes.is_empty() {
            return Ok(true);
        }
        self.fail(r, phase, Problem::SchemaDiffers { changes });
        Ok(false)
    }

    fn fail(&mut self, r: Option<usize>, phase: Phase, problem: Problem) {
        let revision = r.map(|r| {
            let s = &self.map.node(r).script;
            (s.id.clone(), s.path.clone())
        });
        self.report.failure = Some(Failure { phase, revision, problem });
    }

    fn schema(&self) -> Result<Schema> {
        Schema::read(self.conn, &self.exclude)
    }
}

/// A change line without autogenerate's trailing hint on what applying it would do
/// ("drop column t.x (its data is deleted)" → "drop column t.x"): here it describes
/// what a step did, not what a migration would. A parenthesis that is part of the
/// change ("index i (unique) on t(a)") stays.
fn without_hint(change: &str) -> &str {
    // Bytes, not `rfind(" (")`: a string searcher's code costs the wasm 1 KiB.
    match change.as_bytes().windows(2).rposition(|w| w == b" (") {
        Some(at) if change.ends_with(')') && change[at + 2..].starts_with(|c: char| c.is_ascii_lowercase()) && change[at + 2..].contains(' ') => {
            let inner = &change[at + 2..change.len() - 1];
            if inner.contains('(') || inner.contains(')') {
                change
            } else {
                &change[..at]
            }
        }
        _ => change,
    }
}

#[cfg(test)]
mod tests {
    use super::without_hint;

    #[test]
    fn hints_go_and_parts_of_changes_stay() {
        assert_eq!(without_hint("drop column t.x (its data is deleted)"), "drop column t.x");
        assert_eq!(
            without_hint("table t: foreign key added: (a) -> p(id) (rows without a parent make the migration fail)"),
            "table t: foreign key added: (a) -> p(id)"
        );
        assert_eq!(without_hint("add index i (unique) on t(a)"), "add index i (unique) on t(a)");
        assert_eq!(without_hint("add index i (unique, partial) on t(a, b)"), "add index i (unique, partial) on t(a, b)");
        assert_eq!(without_hint("add table t"), "add table t");
    }
}
