//! What a migrator shows without changing anything — `current`, `history`, the offline
//! SQL of a plan — from the revision map and the version table's rows. Shared by the
//! embedded `Migrator` and the adapters' `Planner`, so both answer alike.

use super::js::{set, strings};
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::core::offline::render_plan;
use crate::core::plan::{self, Plan};
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
