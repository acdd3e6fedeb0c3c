//! `Planner`: the plan of a run as data, for hosts whose SQLite athanor does not hold
//! (Cloudflare D1, a Durable Object's storage, `@sqlite.org/sqlite-wasm`): each step's
//! statements (split by SQLite's rules) and its version-table and history writes with
//! bound parameters. The JS adapter runner (pkg-template/adapters.js) executes them.
//! Checksums are compared here too (core::integrity, as the embedded engine does); the
//! runner only reads the history table's rows and hands them in.

use super::js::{set, strings};
use std::collections::HashMap;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::input;
use super::views;
use crate::core::graph::RevisionMap;
use crate::core::integrity;
use crate::core::offline::create_version_table;
use crate::core::plan::{self, Plan, StepKind, VersionOp};
use crate::core::statements::split_statements;
use crate::core::version_sql::{change_sql, forget_all_sql, forget_sql, history_table_sql, purge_sql, rows_sql, HISTORY_TABLE};

/// The query that reads a version table's rows, in rowid order (no migrations needed:
/// the adapters' at-head check asks it before anything is parsed).
#[wasm_bindgen(js_name = versionRowsSql)]
pub fn version_rows_sql(version_table: Option<String>) -> String {
    rows_sql(version_table.as_deref().unwrap_or("alembic_version"))
}

#[wasm_bindgen]
pub struct Planner {
    map: RevisionMap,
    table: String,
}

/// One write with bound parameters; `expect_one`: it must change exactly one row
/// (version-table edits, as Alembic's `HeadMaintainer` checks).
fn write(sql: String, params: &[&str], expect_one: bool) -> JsValue {
    let o = Object::new();
    set(&o, "sql", sql);
    set(&o, "params", params.iter().map(|p| JsValue::from_str(p)).collect::<Array>());
    set(&o, "expectOne", expect_one);
    o.into()
}

/// History rows as the runner reads them (`revision checksum`; ids hold no spaces).
fn recorded(rows: &[String]) -> HashMap<String, String> {
    rows.iter().filter_map(|r| r.split_once(' ')).map(|(rev, sum)| (rev.to_string(), sum.to_string())).collect()
}

#[wasm_bindgen]
impl Planner {
    #[wasm_bindgen(constructor)]
    pub fn new(migrations: JsValue, version_table: Option<String>) -> Result<Planner, JsValue> {
        let map = RevisionMap::new(input::scripts(&migrations).map_err(to_js)?).map_err(to_js)?;
        Ok(Planner { map, table: version_table.unwrap_or_else(|| "alembic_version".into()) })
    }

    /// The query that reads the version table's rows, in rowid order.
    #[wasm_bindgen(js_name = readRowsSql)]
    pub fn read_rows_sql(&self) -> String {
        version_rows_sql(Some(self.table.clone()))
    }

    /// DDL run before the first step that writes (both `IF NOT EXISTS`).
    #[wasm_bindgen(js_name = setupSql)]
    pub fn setup_sql(&self) -> Vec<String> {
        vec![create_version_table(&self.table).replacen("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1), history_table_sql()]
    }

    /// The query that reads the recorded checksums (one parameter: `checksumsParams`),
    /// one `revision checksum` text per row.
    #[wasm_bindgen(js_name = checksumsSql)]
    pub fn checksums_sql(&self) -> String {
        format!("SELECT revision || ' ' || checksum FROM {HISTORY_TABLE} WHERE version_table = ?")
    }

    #[wasm_bindgen(js_name = checksumsParams)]
    pub fn checksums_params(&self) -> Vec<String> {
        vec![self.table.clone()]
    }

    /// `CHECKSUM_MISMATCH` when a revision that `rows` imply was edited after it was
    /// applied; `recorded` as `checksumsSql` returns it.
    pub fn verify(&self, rows: Vec<String>, recorded: Vec<String>) -> Result<(), JsValue> {
        integrity::verify_checksums(&self.map, &rows, &self::recorded(&recorded)).map_err(to_js)
    }

    /// `athanor current` from the version table's `rows` (the runner reads them).
    pub fn current(&self, rows: Vec<String>) -> Result<Vec<String>, JsValue> {
        views::current(&self.map, &rows).map_err(to_js)
    }

    /// Revisions newest first, as `athanor history [-r range]`.
    pub fn history(&self, range: Option<String>) -> Result<Array, JsValue> {
        views::history(&self.map, range.as_deref()).map_err(to_js)
    }

    /// Offline mode: the SQL of an upgrade or downgrade from `rows`, as `--sql` prints it.
    #[wasm_bindgen(js_name = offlineSql)]
    pub fn offline_sql(&self, direction: &str, target: &str, rows: Vec<String>) -> Result<String, JsValue> {
        views::offline_sql(&self.map, &self.table, direction, target, &rows).map_err(to_js)
    }

    /// The migrations' heads (`athanor heads`).
    pub fn heads(&self) -> Vec<String> {
        views::heads(&self.map)
    }

    /// Splits SQL into statements by SQLite's rules.
    pub fn split(&self, sql: &str) -> Vec<String> {
        split_statements(sql, 1).into_iter().map(|s| s.sql).collect()
    }

    /// The steps from `rows` to `target` (`direction`: "upgrade" | "downgrade"):
    /// `{ before, after, steps: [{ revision, direction, message, transactional,
    /// statements: [{ sql, code, line }], writes: [{ sql, params, expectOne }], rowsAfter }] }`.
    /// `recorded` (as `checksumsSql` returns it): each step's writes also forget the
    /// history of revisions its rows no longer imply, as the embedded engine prunes with
    /// every version-table write.
    pub fn plan(&self, direction: &str, target: &str, rows: Vec<String>, recorded: Vec<String>) -> Result<Object, JsValue> {
        let plan = views::plan(&self.map, direction, target, &rows).map_err(to_js)?;
        let steps = Array::new();
        let mut rows_now = plan.before.clone();
        let mut kept = self::recorded(&recorded);
        // Whether `kept` holds only what the rows imply: checked at the first step, and
        // again after each downgrade (upgrades only add to what the rows imply).
        let mut clean = false;
        for (index, step) in plan.steps.iter().enumerate() {
            rows_now = plan::apply_ops(rows_now, &step.ops);
            let (rev, up) = match step.kind {
                StepKind::Upgrade(r) => (r, true),
                StepKind::Downgrade(r) => (r, false),
                StepKind::Stamp => continue,
            };
            let script = &self.map.node(rev).script;
            let section = if up { Some(&script.upgrade) } else { script.downgrade.as_ref() };
            let o = Object::new();
            set(&o, "index", index as u32);
            set(&o, "total", plan.steps.len() as u32);
            set(&o, "revision", script.id.as_str());
            set(&o, "direction", if up { "upgrade" } else { "downgrade" });
            set(&o, "message", script.message.as_str());
            set(&o, "file", script.path.as_str());
            set(&o, "transactional", section.is_none_or(|s| s.transactional));
            let statements: Array = section
                .map(|s| split_statements(&s.sql, s.first_line))
                .unwrap_or_default()
                .into_iter()
                .map(|st| {
                    let so = Object::new();
                    set(&so, "sql", st.sql.as_str());
                    set(&so, "code", st.code());
                    set(&so, "line", st.line as u32);
                    JsValue::from(so)
                })
                .collect();
            set(&o, "statements", statements);
            let writes = Array::new();
            for op in &step.ops {
                writes.push(&self.version_write(op));
            }
            if up {
                let checksum = script.checksum();
                writes.push(&write(
                    format!("INSERT OR REPLACE INTO {HISTORY_TABLE} (version_table, revision, checksum, applied_at, execution_ms) VALUES (?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'), 0)"),
                    &[&self.table, &script.id, &checksum],
                    false,
                ));
                kept.insert(script.id.clone(), checksum);
            }
            if !clean || !up {
                for rev in integrity::stale(&self.map, &rows_now, kept.keys()) {
                    writes.push(&self.forget(&rev));
                    kept.remove(&rev);
                }
                clean = true;
            }
            // The version table's rows once this step is done: the runner checks them.
            set(&o, "rowsAfter", strings(&rows_now));
            set(&o, "writes", writes);
            steps.push(&o);
        }
        Ok(plan_js(&plan, steps))
    }

    /// `stamp targets [--purge]` from `rows` as one step of writes only (run
    /// atomically): the version-table edits, and the history of revisions no longer
    /// applied forgotten (with `purge`, every row and checksum of this table first).
    /// `recorded` as `checksumsSql` returns it. No step when there is nothing to do.
    pub fn stamp(&self, targets: Vec<String>, purge: bool, rows: Vec<String>, recorded: Vec<String>) -> Result<Object, JsValue> {
        let plan = plan::plan_stamp(&self.map, &rows, &targets, purge).map_err(to_js)?;
        let steps = Array::new();
        if plan.steps.is_empty() && !plan.purge {
            return Ok(plan_js(&plan, steps));
        }
        let writes = Array::new();
        let mut kept = self::recorded(&recorded);
        if purge {
            writes.push(&write(purge_sql(&self.table), &[], false));
            writes.push(&write(forget_all_sql(), &[&self.table], false));
            kept.clear();
        }
        for op in plan.steps.iter().flat_map(|s| &s.ops) {
            writes.push(&self.version_write(op));
        }
        for rev in integrity::stale(&self.map, &plan.after, kept.keys()) {
            writes.push(&self.forget(&rev));
        }
        let o = Object::new();
        set(&o, "index", 0u32);
        set(&o, "total", 1u32);
        set(&o, "revision", JsValue::NULL);
        set(&o, "direction", "stamp");
        set(&o, "from", strings(&plan.before));
        set(&o, "to", strings(&plan.after));
        set(&o, "transactional", true);
        set(&o, "statements", Array::new());
        set(&o, "writes", writes);
        set(&o, "rowsAfter", strings(&plan.after));
        steps.push(&o);
        Ok(plan_js(&plan, steps))
    }

    /// Forgets the history of `rev` (no longer applied).
    fn forget(&self, rev: &str) -> JsValue {
        write(forget_sql(), &[&self.table, rev], false)
    }

    fn version_write(&self, op: &VersionOp) -> JsValue {
        let (sql, params) = change_sql(&self.table, op);
        write(sql, &params, true)
    }
}

fn plan_js(plan: &Plan, steps: Array) -> Object {
    let out = Object::new();
    set(&out, "before", strings(&plan.before));
    set(&out, "after", strings(&plan.after));
    set(&out, "warnings", strings(&plan.warnings));
    set(&out, "steps", steps);
    out
}
