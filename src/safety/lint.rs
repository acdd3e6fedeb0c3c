//! `athanor lint`: each chosen migration's upgrade applied to a scratch in-memory
//! database built up to its parents, the schema before and after it read with
//! autogenerate's model and classified ([`classify`]). Each finding names the statement
//! it comes from: the upgrade runs statement by statement, the schema read again after
//! each one that changed it (`PRAGMA schema_version`), and a finding's line is where it
//! started to hold for good (in a rebuild, the statement that puts the new table in
//! place). `transaction:false` upgrades are findings of their own, at their marker.
//! Findings of a class the file accepts (`-- athanor:lint-ignore`) are kept apart.

use std::collections::BTreeSet;

use rusqlite::Connection;

use super::classify::{classify, Class, Intent, Issue};
use super::ignore::accepted;
use crate::autogen::Schema;
use crate::core::error::{Error, Result, StatementFailure};
use crate::core::graph::{Edges, RevisionMap};
use crate::core::plan::plan_upgrade;
use crate::core::range::{side_spec, split_range};
use crate::core::script::{Script, Section};
use crate::core::statements::{split_statements, Statement};
use crate::sqlite::runner::{execute_one, sqlite_message};
use crate::sqlite::{sql_error, sqlite_code};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub class: Class,
    pub revision: String,
    pub file: String,
    /// The line of the statement it comes from (of the section marker for
    /// `non-transactional`).
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintReport {
    /// The revisions linted, in upgrade order.
    pub revisions: Vec<String>,
    /// In revision order, then line, then class.
    pub findings: Vec<Finding>,
    /// Findings a `-- athanor:lint-ignore` comment accepts.
    pub ignored: Vec<Finding>,
}

/// The revisions `lint RANGE` looks at, in upgrade order, each once. `range`: a history
/// range (`a:b`, `a:`, `:b`, either side `current`), one revision or symbol (`REV`,
/// `heads`, `current`); `None`: the revisions a database at `rows` has not applied, or
/// without a database (`rows` `None`) the heads. `rows` are also what `current` means.
pub fn choose_revisions(map: &RevisionMap, range: Option<&str>, rows: Option<&[String]>) -> Result<Vec<usize>> {
    let applied = rows.unwrap_or_default();
    let chosen: Vec<usize> = match range.map(str::trim) {
        None if rows.is_some() => return pending(map, applied),
        None => map.heads.clone(),
        Some("current") => applied.iter().filter_map(|r| map.index_of(r)).collect(),
        Some(range) => match split_range(range) {
            Some((start, end)) => map.walk_revisions(&side_spec(start, "base", applied), &side_spec(end, "heads", applied))?,
            None if range.contains(':') => return Err(Error::Usage(format!("lint RANGE '{range}' is not START:END (a:b, a:, :b) or one revision"))),
            None => map.get_revisions(range)?.into_iter().filter_map(|p| p.rev()).collect(),
        },
    };
    Ok(pending(map, &[])?.into_iter().filter(|r| chosen.contains(r)).collect())
}

/// What an upgrade to the heads from `rows` applies, in order.
fn pending(map: &RevisionMap, rows: &[String]) -> Result<Vec<usize>> {
    Ok(plan_upgrade(map, rows, "heads")?.steps.iter().filter_map(|s| s.revision()).collect())
}

/// Lints `revisions` of `map` (any order; their ancestors are applied first, unlinted)
/// on a fresh in-memory database.
pub fn lint(map: &RevisionMap, revisions: &[usize]) -> Result<LintReport> {
    lint_on(&crate::autogen::memory()?, map, revisions)
}

/// [`lint`] on `conn`, an empty database the caller opened (its SQL functions
/// registered). A migration that fails there is `MIGRATION_FAILED`; a bad
/// `lint-ignore` comment `PARSE_ERROR`.
pub fn lint_on(conn: &Connection, map: &RevisionMap, revisions: &[usize]) -> Result<LintReport> {
    let wanted: BTreeSet<usize> = revisions.iter().copied().collect();
    let needed: BTreeSet<usize> = map.ancestors(revisions, Edges::All).into_iter().chain(revisions.iter().copied()).collect();
    let mut report = LintReport::default();
    let mut left = wanted.len();
    for r in pending(map, &[])? {
        if !needed.contains(&r) {
            continue;
        }
        let script = &map.node(r).script;
        if wanted.contains(&r) {
            lint_one(conn, script, &mut report)?;
            left -= 1;
            if left == 0 {
                break;
            }
        } else {
            apply(conn, script, &mut |_| Ok(()))?;
        }
    }
    Ok(report)
}

fn lint_one(conn: &Connection, script: &Script, report: &mut LintReport) -> Result<()> {
    let accepted = accepted(script)?;
    // schemas[0] is before; each statement's entry points at the schema after it.
    let mut schemas = vec![Schema::read(conn, &[])?];
    let mut after: Vec<(usize, usize)> = Vec::new();
    let mut version = schema_version(conn)?;
    apply(conn, script, &mut |st| {
        let now = schema_version(conn)?;
        if now != version {
            schemas.push(Schema::read(conn, &[])?);
            version = now;
        }
        after.push((st.line, schemas.len() - 1));
        Ok(())
    })?;
    let mut intent = Intent::of(split_statements(&script.upgrade.sql, script.upgrade.first_line).iter().map(Statement::code));
    intent.absent_between = schemas[0].tables.keys().filter(|t| schemas[1..].iter().any(|s| !s.tables.contains_key(*t))).cloned().collect();
    let mut found: Vec<(usize, Issue)> = Vec::new();
    if let Some(&(_, last)) = after.last() {
        let holds: Vec<Vec<Issue>> = schemas.iter().map(|s| classify(&schemas[0], s, &intent)).collect();
        for class in Class::ALL {
            for issue in holds[last].iter().filter(|i| i.class == class) {
                // Back from the end while it already held after the statement before.
                let mut i = after.len() - 1;
                while i > 0 && holds[after[i - 1].1].contains(issue) {
                    i -= 1;
                }
                found.push((after[i].0, issue.clone()));
            }
        }
    }
    if !script.upgrade.transactional {
        let message = "the upgrade runs outside a transaction (transaction:false): a failure part-way leaves the statements before it applied".into();
        found.push((script.upgrade.first_line - 1, Issue { class: Class::NonTransactional, message }));
    }
    // By line, then class (the order found in), without a sort's code in the wasm.
    let mut ordered: Vec<(usize, Issue)> = Vec::with_capacity(found.len());
    for f in found {
        let at = ordered.partition_point(|o| o.0 <= f.0);
        ordered.insert(at, f);
    }
    for (line, issue) in ordered {
        let f = Finding { class: issue.class, revision: script.id.clone(), file: script.path.clone(), line, message: issue.message };
        if accepted.contains(&f.class) {
            report.ignored.push(f);
        } else {
            report.findings.push(f);
        }
    }
    report.revisions.push(script.id.clone());
    Ok(())
}

fn schema_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA schema_version", [], |r| r.get(0)).map_err(sql_error)
}

/// Runs `script`'s upgrade as the runner does: in a transaction of its own unless the
/// section says `transaction:false` (then as written, with the foreign-key setting
/// restored after). `after_each` is called after every statement that succeeded. No
/// version table: the database is scratch.
fn apply(conn: &Connection, script: &Script, after_each: &mut dyn FnMut(&Statement) -> Result<()>) -> Result<()> {
    let section = &script.upgrade;
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).map_err(sql_error)?;
    if section.transactional {
        conn.execute_batch("BEGIN").map_err(sql_error)?;
    }
    let mut result = statements(conn, script, section, after_each);
    if !conn.is_autocommit() {
        if result.is_ok() && section.transactional {
            result = conn.execute_batch("COMMIT").map_err(sql_error);
        } else {
            let _ = conn.execute_batch("ROLLBACK");
            if result.is_ok() {
                result =
                    Err(Error::VersionTable(format!("the transaction:false section of {} left a transaction open; it was rolled back", script.id)));
            }
        }
    }
    conn.execute_batch(&format!("PRAGMA foreign_keys = {fk}")).map_err(sql_error)?;
    result
}

fn statements(conn: &Connection, script: &Script, section: &Section, after_each: &mut dyn FnMut(&Statement) -> Result<()>) -> Result<()> {
    for st in split_statements(&section.sql, section.first_line) {
        execute_one(conn, &st.sql).map_err(|e| {
            Error::MigrationFailed(Box::new(StatementFailure {
                revision: script.id.clone(),
                file: script.path.clone(),
                line: st.line,
                statement: st.code().to_string(),
                sqlite_message: sqlite_message(&e),
                sqlite_code: sqlite_code(&e),
            }))
        })?;
        after_each(&st)?;
    }
    Ok(())
}
