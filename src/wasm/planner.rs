//! `Planner`: the revision map for hosts whose SQLite athanor does not hold (D1, a
//! Durable Object's storage, better-sqlite3, node:sqlite, sqlite-wasm, libSQL): what a
//! migrator shows without a database (heads, history, offline SQL), and, in
//! `planner_run.rs`, the runs on the host's connection.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::input;
use super::views;
use crate::core::graph::RevisionMap;
use crate::core::statements::split_statements;
use crate::core::version_sql::{checksums_sql, rows_sql};

/// The query that reads a version table's rows, in rowid order (no migrations needed:
/// the adapters' at-head check asks it before anything is parsed).
#[wasm_bindgen(js_name = versionRowsSql)]
pub fn version_rows_sql(version_table: Option<String>) -> String {
    rows_sql(version_table.as_deref().unwrap_or("alembic_version"))
}

#[wasm_bindgen]
pub struct Planner {
    pub(super) map: RevisionMap,
    pub(super) table: String,
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

    /// The query that reads the recorded checksums (one parameter: `checksumsParams`),
    /// one `revision checksum` text per row.
    #[wasm_bindgen(js_name = checksumsSql)]
    pub fn checksums_sql(&self) -> String {
        checksums_sql()
    }

    #[wasm_bindgen(js_name = checksumsParams)]
    pub fn checksums_params(&self) -> Vec<String> {
        vec![self.table.clone()]
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
}
