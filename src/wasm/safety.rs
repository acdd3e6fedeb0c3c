//! `testMigrations` and `lintMigrations`: `athanor test` and `athanor lint` for the JS
//! API (`migrator.test()`, `migrator.lint()`). Like `autogenerate`, they need only the
//! migrations (scratch in-memory databases), so they live in the full wasm, loaded on
//! their first call.

use super::js::{set, strings};
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::input;
use crate::core::error::Result;
use crate::core::graph::RevisionMap;
use crate::safety::ignore::accepted;
use crate::safety::lint::{choose_revisions, lint, Finding};
use crate::safety::round_trip::{Cycle, Problem, TestOptions};
use crate::safety::test_history;

/// Every revision's upgrade, downgrade and upgrade again on a scratch database, then
/// down to base and up to the heads (`athanor test`). Returns `{ passed, tested:
/// [{ revision, reversible }], cycle: "passed" | "skipped" | "not run", failure: null |
/// { phase, revision, file, changes, error }, unseeded: [{ table, reason }] }`; `error`
/// is the `ROUND_TRIP_FAILED` error the CLI reports.
#[wasm_bindgen(js_name = testMigrations)]
pub fn test_migrations(migrations: JsValue, version_table: Option<String>, seed: bool) -> std::result::Result<Object, JsValue> {
    run_test(&migrations, version_table, seed).map_err(to_js)
}

fn run_test(migrations: &JsValue, version_table: Option<String>, seed: bool) -> Result<Object> {
    let map = RevisionMap::new(input::scripts(migrations)?)?;
    let options = TestOptions { version_table: version_table.unwrap_or_else(|| "alembic_version".into()), seed };
    let report = test_history(&map, &options)?;
    let o = Object::new();
    set(&o, "passed", report.passed());
    let tested: Array = report
        .tested
        .iter()
        .map(|t| {
            let e = Object::new();
            set(&e, "revision", map.id(t.revision));
            set(&e, "reversible", t.reversible);
            JsValue::from(e)
        })
        .collect();
    set(&o, "tested", tested);
    let cycle = match report.cycle {
        Cycle::Passed => "passed",
        Cycle::Skipped => "skipped",
        Cycle::NotPassed => "not run",
    };
    set(&o, "cycle", cycle);
    let failure = report.failure.as_ref().map(|f| {
        let e = Object::new();
        set(&e, "phase", f.phase.name());
        set(&e, "revision", f.revision.as_ref().map(|r| JsValue::from_str(&r.0)).unwrap_or(JsValue::NULL));
        set(&e, "file", f.revision.as_ref().map(|r| JsValue::from_str(&r.1)).unwrap_or(JsValue::NULL));
        let changes = match &f.problem {
            Problem::SchemaDiffers { changes } => strings(changes),
            Problem::Failed(_) => Array::new(),
        };
        set(&e, "changes", changes);
        set(&e, "error", to_js(f.to_error()));
        JsValue::from(e)
    });
    set(&o, "failure", failure.unwrap_or(JsValue::NULL));
    let unseeded: Array = report
        .unseeded
        .iter()
        .map(|(table, reason)| {
            let e = Object::new();
            set(&e, "table", table.as_str());
            set(&e, "reason", reason.as_str());
            JsValue::from(e)
        })
        .collect();
    set(&o, "unseeded", unseeded);
    Ok(o)
}

/// Each migration of `range` (as `history -r`; `None`: what an upgrade from `rows`
/// would apply, or the heads without rows) applied on a scratch copy of the schema
/// before it, its changes classed (`athanor lint`). Returns `{ revisions, findings:
/// [{ class, revision, file, line, message }], ignored }`.
#[wasm_bindgen(js_name = lintMigrations)]
pub fn lint_migrations(migrations: JsValue, range: Option<String>, rows: Option<Vec<String>>) -> std::result::Result<Object, JsValue> {
    run_lint(&migrations, range.as_deref(), rows.as_deref()).map_err(to_js)
}

fn run_lint(migrations: &JsValue, range: Option<&str>, rows: Option<&[String]>) -> Result<Object> {
    let map = RevisionMap::new(input::scripts(migrations)?)?;
    let revisions = choose_revisions(&map, range, rows)?;
    for &r in &revisions {
        accepted(&map.node(r).script)?;
    }
    let report = lint(&map, &revisions)?;
    let findings = |fs: &[Finding]| -> Array {
        fs.iter()
            .map(|f| {
                let e = Object::new();
                set(&e, "class", f.class.name());
                set(&e, "revision", f.revision.as_str());
                set(&e, "file", f.file.as_str());
                set(&e, "line", f.line as u32);
                set(&e, "message", f.message.as_str());
                JsValue::from(e)
            })
            .collect()
    };
    let o = Object::new();
    set(&o, "revisions", strings(&report.revisions));
    set(&o, "findings", findings(&report.findings));
    set(&o, "ignored", findings(&report.ignored));
    Ok(o)
}

/// `athanor adopt` for the JS API: the base revision that creates exactly the schema of
/// the database behind `conn` (its own `CREATE` statements, read through a copy of the
/// schema in memory), with a downgrade that drops it. Returns `{ revision, fileName,
/// text, schema }`; stamping is the caller's (a run over the same connection). `nowMs`:
/// the Create Date, written in UTC as both CLIs write it.
#[cfg(feature = "commands")]
#[wasm_bindgen(js_name = adoptRevision)]
pub fn adopt_revision(
    mut conn: super::host_run::JsConnection,
    version_table: Option<String>,
    message: Option<String>,
    revision: String,
    now_ms: f64,
) -> std::result::Result<Object, JsValue> {
    adopt(&mut conn, version_table.as_deref().unwrap_or("alembic_version"), message, revision, now_ms).map_err(to_js)
}

#[cfg(feature = "commands")]
fn adopt(conn: &mut super::host_run::JsConnection, table: &str, message: Option<String>, id: String, now_ms: f64) -> Result<Object> {
    use crate::cli::adopt::{objects, sections, DEFAULT_MESSAGE};
    use crate::core::error::Error;
    use crate::core::script::{self, render, Script, Section};
    use crate::core::source::slug;
    use crate::core::version_sql::HISTORY_TABLE;

    script::check_identifier("revision identifier", &id).map_err(Error::Usage)?;
    let rows = crate::core::connection::read_rows(conn, table)?;
    if !rows.is_empty() {
        return Err(Error::Usage(format!(
            "the database is already under migrations ({table} holds {}): use upgrade or stamp instead",
            rows.join(", ")
        )));
    }
    let copy = crate::autogen::schema_copy(conn)?;
    let objects = objects(&copy, &[table, HISTORY_TABLE])?;
    if objects.is_empty() {
        return Err(Error::Usage("the database has no tables, views, indexes or triggers: nothing to adopt".into()));
    }
    let (up, down) = sections(&objects);
    let message = crate::core::script::one_line(message.as_deref().unwrap_or(DEFAULT_MESSAGE));
    let file_name = format!("{id}_{}.sql", slug(&message));
    let new = Script {
        id: id.clone(),
        parents: vec![],
        branch_labels: vec![],
        depends_on: vec![],
        create_date: Some(crate::cli::host::format_timestamp((now_ms * 1000.0) as i64)),
        message,
        upgrade: Section::new(up.clone()),
        downgrade: Some(Section::new(down)),
        file_name: file_name.clone(),
        path: file_name.clone(),
    };
    let o = Object::new();
    set(&o, "revision", id.as_str());
    set(&o, "fileName", file_name.as_str());
    set(&o, "text", render(&new));
    set(&o, "schema", up.as_str());
    Ok(o)
}
