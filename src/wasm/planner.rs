//! `Planner`: the plan of a run as data, for hosts whose SQLite athanor does not hold
//! (Cloudflare D1, a Durable Object's storage, `@sqlite.org/sqlite-wasm`): each step's
//! statements (split by SQLite's rules) and its version-table and history writes with
//! bound parameters. The JS adapter runner (pkg-template/adapters.js) executes them.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::input;
use crate::core::error::Error;
use crate::core::graph::RevisionMap;
use crate::core::offline::{create_version_table, quote_ident};
use crate::core::plan::{self, StepKind, VersionOp};
use crate::sqlite::split::split_statements;
use crate::sqlite::version_table::{history_table_sql, HISTORY_TABLE};

#[wasm_bindgen]
pub struct Planner {
    map: RevisionMap,
    table: String,
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn write(sql: String, params: &[&str]) -> JsValue {
    let o = Object::new();
    set(&o, "sql", sql);
    set(&o, "params", params.iter().map(|p| JsValue::from_str(p)).collect::<Array>());
    o.into()
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
        format!("SELECT version_num FROM {} ORDER BY rowid", quote_ident(&self.table))
    }

    /// DDL run before the first step that writes (both `IF NOT EXISTS`).
    #[wasm_bindgen(js_name = setupSql)]
    pub fn setup_sql(&self) -> Vec<String> {
        vec![create_version_table(&self.table).replacen("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1), history_table_sql()]
    }

    /// The migrations' heads (`athanor heads`).
    pub fn heads(&self) -> Vec<String> {
        self.map.heads.iter().map(|&h| self.map.id(h).to_string()).collect()
    }

    /// Splits SQL into statements by SQLite's rules.
    pub fn split(&self, sql: &str) -> Vec<String> {
        split_statements(sql, 1).into_iter().map(|s| s.sql).collect()
    }

    /// The steps from `rows` to `target` (`direction`: "upgrade" | "downgrade"):
    /// `{ before, after, steps: [{ revision, direction, message, transactional,
    /// statements: [{ sql, line }], writes: [{ sql, params, expectOne }] }] }`.
    pub fn plan(&self, direction: &str, target: &str, rows: Vec<String>) -> Result<Object, JsValue> {
        let plan = match direction {
            "upgrade" => plan::plan_upgrade(&self.map, &rows, target),
            "downgrade" => plan::plan_downgrade(&self.map, &rows, target),
            other => Err(Error::Usage(format!("direction must be 'upgrade' or 'downgrade', not '{other}'"))),
        }
        .map_err(to_js)?;
        let t = quote_ident(&self.table);
        let steps = Array::new();
        let mut rows_now = plan.before.clone();
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
                writes.push(&match op {
                    VersionOp::Insert(v) => write(format!("INSERT INTO {t} (version_num) VALUES (?)"), &[v]),
                    VersionOp::Delete(v) => write(format!("DELETE FROM {t} WHERE version_num = ?"), &[v]),
                    VersionOp::Update { from, to } => write(format!("UPDATE {t} SET version_num = ? WHERE version_num = ?"), &[to, from]),
                });
            }
            if up {
                writes.push(&write(
                    format!("INSERT OR REPLACE INTO {HISTORY_TABLE} (version_table, revision, checksum, applied_at, execution_ms) VALUES (?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'), 0)"),
                    &[&self.table, &script.id, &script.checksum()],
                ));
            } else {
                writes.push(&write(format!("DELETE FROM {HISTORY_TABLE} WHERE version_table = ? AND revision = ?"), &[&self.table, &script.id]));
            }
            set(&o, "versionChanges", step.ops.len() as u32);
            // The version table's rows once this step is done: the runner checks them.
            set(&o, "rowsAfter", rows_now.iter().map(|r| JsValue::from_str(r)).collect::<Array>());
            set(&o, "writes", writes);
            steps.push(&o);
        }
        let out = Object::new();
        set(&out, "before", plan.before.iter().map(|r| JsValue::from_str(r)).collect::<Array>());
        set(&out, "after", plan.after.iter().map(|r| JsValue::from_str(r)).collect::<Array>());
        set(&out, "steps", steps);
        Ok(out)
    }
}
