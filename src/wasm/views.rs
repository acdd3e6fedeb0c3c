//! What a migrator shows without changing anything — `current`, `history`, the offline
//! SQL of a plan — from the revision map and the version table's rows. Shared by the
//! embedded `Migrator` and the adapters' `Planner`, so both answer alike.

use super::js::{set, strings};
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::core::offline::render_plan;
use crate::core::plan::{self, Plan, Step, StepKind, VersionOp};
use crate::core::run::{Event, Report};
use crate::core::statements::split_section;
use crate::core::walk::Spec;

/// `athanor current`'s revisions: the rows plus what they imply, reduced to branch
/// heads; `DATABASE_AHEAD` when a row names a revision these migrations lack.
pub fn current(map: &RevisionMap, rows: &[String]) -> Result<Vec<String>> {
    if let Some(r) = rows.iter().find(|r| map.index_of(r).is_none()) {
        return Err(Error::DatabaseAhead { revision: r.clone() });
    }
    Ok(map.all_current(rows)?.into_iter().map(|i| map.id(i).to_string()).collect())
}

/// Revisions newest first, as `athanor history [-r range]`.
pub fn history(map: &RevisionMap, range: Option<&str>) -> Result<Array> {
    let (base, head) = match range.map(|r| r.split_once(':')) {
        Some(Some((b, h))) => (b.to_string(), h.to_string()),
        Some(None) => return Err(Error::Usage("History range requires [start]:[end], [start]:, or :[end]".into())),
        None => (String::new(), String::new()),
    };
    let spec = |s: String, d: &str| Spec::Expr(if s.is_empty() { d.to_string() } else { s });
    let revs = map.walk_revisions(&spec(base, "base"), &spec(head, "heads"))?;
    Ok(revs
        .into_iter()
        .map(|r| {
            let n = map.node(r);
            let o = Object::new();
            set(&o, "revision", n.id());
            set(&o, "revises", strings(&n.parents.iter().map(|&p| map.id(p).to_string()).collect::<Vec<_>>()));
            set(&o, "dependsOn", strings(&n.script.depends_on));
            set(&o, "branchLabels", strings(&n.labels.iter().cloned().collect::<Vec<_>>()));
            set(&o, "message", n.script.message.as_str());
            set(&o, "isHead", n.is_head());
            set(&o, "isMergePoint", n.is_merge_point());
            set(&o, "isBranchPoint", n.is_branch_point());
            JsValue::from(o)
        })
        .collect())
}

/// The migrations' heads (`athanor heads`).
pub fn heads(map: &RevisionMap) -> Vec<String> {
    map.heads.iter().map(|&h| map.id(h).to_string()).collect()
}

/// The plan from `rows` to `target`; `direction` as JS gives it: "upgrade" | "downgrade".
pub fn plan(map: &RevisionMap, direction: &str, target: &str, rows: &[String]) -> Result<Plan> {
    match direction {
        "upgrade" => plan::plan_upgrade(map, rows, target),
        "downgrade" => plan::plan_downgrade(map, rows, target),
        other => Err(Error::Usage(format!("direction must be 'upgrade' or 'downgrade', not '{other}'"))),
    }
}

/// Offline mode: the SQL of an upgrade or downgrade from `rows`, as Alembic's `--sql`.
pub fn offline_sql(map: &RevisionMap, version_table: &str, direction: &str, target: &str, rows: &[String]) -> Result<String> {
    Ok(render_plan(map, &plan(map, direction, target, rows)?, version_table, &split_section))
}

/// One step as JS sees it in progress events and reports.
pub fn step_js(map: &RevisionMap, step: &Step, index: usize, total: usize) -> Object {
    let o = Object::new();
    let (direction, revision) = match step.kind {
        StepKind::Upgrade(r) => ("upgrade", Some(r)),
        StepKind::Downgrade(r) => ("downgrade", Some(r)),
        StepKind::Stamp => ("stamp", None),
    };
    set(&o, "index", index as u32);
    set(&o, "total", total as u32);
    set(&o, "direction", direction);
    set(&o, "revision", revision.map(|r| JsValue::from_str(map.id(r))).unwrap_or(JsValue::NULL));
    set(&o, "message", revision.map(|r| JsValue::from_str(&map.node(r).script.message)).unwrap_or(JsValue::NULL));
    set(&o, "from", strings(&step.from));
    set(&o, "to", strings(&step.to));
    let ops: Array = step
        .ops
        .iter()
        .map(|op| {
            let o = Object::new();
            match op {
                VersionOp::Insert(v) => {
                    set(&o, "op", "insert");
                    set(&o, "version", v.as_str());
                }
                VersionOp::Delete(v) => {
                    set(&o, "op", "delete");
                    set(&o, "version", v.as_str());
                }
                VersionOp::Update { from, to } => {
                    set(&o, "op", "update");
                    set(&o, "from", from.as_str());
                    set(&o, "to", to.as_str());
                }
            }
            JsValue::from(o)
        })
        .collect();
    set(&o, "versionChanges", ops);
    o
}

pub fn report_js(map: &RevisionMap, report: &Report) -> Object {
    let o = Object::new();
    let total = report.plan.steps.len();
    let steps: Array = report
        .plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let js = step_js(map, s, i, total);
            set(&js, "ms", report.step_ms.get(i).copied().unwrap_or(0.0));
            JsValue::from(js)
        })
        .collect();
    set(&o, "steps", steps);
    set(&o, "before", strings(&report.plan.before));
    set(&o, "after", strings(&report.plan.after));
    set(&o, "warnings", strings(&report.plan.warnings));
    o
}

/// Reports each step to `progress` (before and after), as `{ ...step, phase }`.
pub fn on_progress<'a>(map: &'a RevisionMap, progress: Option<&'a js_sys::Function>) -> impl FnMut(&Event) + 'a {
    move |e: &Event| {
        let Some(f) = progress else { return };
        let (phase, index, total, step) = match e {
            Event::StepStarted { index, total, step } => ("start", *index, *total, *step),
            Event::StepFinished { index, total, step, .. } => ("done", *index, *total, *step),
        };
        let js = step_js(map, step, index, total);
        set(&js, "phase", phase);
        // A throwing progress callback must not abort a migration half-way.
        let _ = f.call1(&JsValue::NULL, &js);
    }
}
