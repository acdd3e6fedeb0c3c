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
