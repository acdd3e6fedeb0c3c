//! Runs on a host's SQLite, through the `Planner`: the core's run ([`crate::core::run`])
//! over a [`JsConnection`]'s primitives, or, for hosts that answer asynchronously (D1,
//! libSQL), the same run as batches for the JS to execute. Only the adapter wasm has it
//! (the `planner` feature).

use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::host_run::{text, JsConnection};
use super::js::{get, set, strings};
use super::planner::Planner;
use super::views::{on_progress, report_js};
use crate::core::batch::{batch_run, BatchStatement, Seen};
use crate::core::connection::{self, SqlHost};
use crate::core::error::{Error, Result};
use crate::core::plan::{self, Plan};
use crate::core::run::{Options, Run, TransactionMode};
use crate::core::version_sql::parse_checksums;

/// A run's plan from the version table's rows.
type PlanFn<'a> = Box<dyn Fn(&[String]) -> Result<Plan> + 'a>;

/// `{ perMigration, purge, hostTransaction }`.
struct RunOptions {
    per_migration: bool,
    purge: bool,
    host_transaction: bool,
}

impl RunOptions {
    fn read(o: &JsValue) -> RunOptions {
        let flag = |k| get(o, k).as_bool().unwrap_or(false);
        RunOptions { per_migration: flag("perMigration"), purge: flag("purge"), host_transaction: flag("hostTransaction") }
    }
}

impl Planner {
    fn options(&self, per_migration: bool) -> Options {
        Options { version_table: self.table.clone(), transaction: if per_migration { TransactionMode::PerMigration } else { TransactionMode::All } }
    }

    /// The plan of `kind` ("upgrade" | "downgrade" | "stamp") to `targets` from a
    /// version table's rows; whether checksums are verified (not for a stamp, which is
    /// how an edited migration is accepted).
    fn planner<'a>(&'a self, kind: &'a str, targets: &'a [String], purge: bool) -> Result<(PlanFn<'a>, bool)> {
        let target = match (kind, targets) {
            ("stamp", _) => "",
            ("upgrade" | "downgrade", [t]) => t.as_str(),
            ("upgrade" | "downgrade", _) => return Err(Error::Usage(format!("{kind} takes one target"))),
            _ => return Err(Error::Usage(format!("a run is 'upgrade', 'downgrade' or 'stamp', not '{kind}'"))),
        };
        let map = &self.map;
        let planner = move |rows: &[String]| match kind {
            "upgrade" => plan::plan_upgrade(map, rows, target),
            "downgrade" => plan::plan_downgrade(map, rows, target),
            _ => plan::plan_stamp(map, rows, targets, purge),
        };
        Ok((Box::new(planner), kind != "stamp"))
    }
}

/// A batch statement as `{ sql, params, revision?, file?, line?, statement? }`.
fn statement_js(s: &BatchStatement) -> JsValue {
    let o = Object::new();
    set(&o, "sql", s.sql.as_str());
    set(&o, "params", strings(&s.params));
    if let Some(origin) = &s.origin {
        set(&o, "revision", origin.revision.as_str());
        set(&o, "file", origin.file.as_str());
        set(&o, "line", origin.line as u32);
        set(&o, "statement", origin.code.as_str());
    }
    o.into()
}

/// Text rows from JS (`null`: the table does not exist).
fn rows_of(v: &JsValue) -> Option<Vec<String>> {
    (!v.is_null() && !v.is_undefined()).then(|| Array::from(v).iter().filter_map(text).collect())
}

#[wasm_bindgen]
impl Planner {
    /// The version table's rows through `conn`, in rowid order.
    #[wasm_bindgen(js_name = rowsOn)]
    pub fn rows_on(&self, mut conn: JsConnection) -> std::result::Result<Vec<String>, JsValue> {
        connection::read_rows(&mut conn, &self.table).map_err(to_js)
    }

    /// A whole run on `conn`: `kind` "upgrade" | "downgrade" (one target) | "stamp"
    /// (targets; `options.purge`). `options.perMigration`: a transaction per migration;
    /// `options.hostTransaction`: the caller runs this inside a transaction of its own
    /// (a Durable Object's `transactionSync`), so athanor opens none and a failure
    /// throws for the host to roll back. Returns the report.
    #[wasm_bindgen(js_name = runOn)]
    pub fn run_on(
        &self,
        mut conn: JsConnection,
        kind: &str,
        targets: Vec<String>,
        options: JsValue,
        progress: Option<Function>,
    ) -> std::result::Result<Object, JsValue> {
        let o = RunOptions::read(&options);
        let (planner, verify) = self.planner(kind, &targets, o.purge).map_err(to_js)?;
        let options = self.options(o.per_migration && !o.host_transaction);
        let mut host = SqlHost::new(&mut conn, &self.table);
        host.host_transaction = o.host_transaction;
        let mut on_event = on_progress(&self.map, progress.as_ref());
        let report = Run::new(&mut host, &self.map, &options).run(verify, &planner, &mut on_event).map_err(to_js)?;
        Ok(report_js(&self.map, &report))
    }

    /// The run as batches for a host that runs a batch as one transaction (D1,
    /// libSQL): `rows` the version table's rows as read (`null`: no table), `recorded`
    /// the history as `checksumsSql` reads it (`null`: no table). Returns `{ parts:
    /// [{ statements, steps, rows }], report }`; each part is one batch, its first
    /// statement the guard that fails it unless the version table still holds `rows`.
    /// `options.perMigration`: a batch per migration.
    pub fn batch(
        &self,
        kind: &str,
        targets: Vec<String>,
        rows: JsValue,
        recorded: JsValue,
        options: JsValue,
    ) -> std::result::Result<Object, JsValue> {
        let o = RunOptions::read(&options);
        let (planner, verify) = self.planner(kind, &targets, o.purge).map_err(to_js)?;
        let history = rows_of(&recorded).map(|r| parse_checksums(r.iter().map(String::as_str)));
        let seen = Seen { rows: rows_of(&rows), history };
        let batch = batch_run(&self.map, &self.options(o.per_migration), seen, verify, &planner).map_err(to_js)?;
        let parts: Array = batch
            .parts
            .iter()
            .map(|p| {
                let po = Object::new();
                set(&po, "statements", p.statements.iter().map(statement_js).collect::<Array>());
                set(&po, "steps", p.steps.iter().map(|&i| JsValue::from(i as u32)).collect::<Array>());
                set(&po, "rows", strings(&p.rows));
                JsValue::from(po)
            })
            .collect();
        let out = report_js(&self.map, &batch.report);
        set(&out, "parts", parts);
        Ok(out)
    }
}
