//! A host's SQLite as the core's [`Connection`]: a JS connection's three primitives
//! (node:sqlite, better-sqlite3, bun:sqlite, sqlite-wasm, a Durable Object's storage:
//! adapters.js builds them). The `Planner`'s runs on it are in `planner_run.rs`; the
//! CLI's database and `adopt` use it too. Nothing of a run is decided in JS.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js::{get, message};
use crate::core::connection::{Connection, Param};
use crate::core::run::SqlFailure;

#[wasm_bindgen]
extern "C" {
    /// `{ values(sql, params), run(sql, params), exec(sql), inTransaction() }`: the
    /// primitives adapters.js builds over a host's synchronous connection.
    pub type JsConnection;

    /// The first column of each row.
    #[wasm_bindgen(method, catch)]
    fn values(this: &JsConnection, sql: &str, params: Array) -> std::result::Result<Array, JsValue>;
    /// Rows changed.
    #[wasm_bindgen(method, catch)]
    fn run(this: &JsConnection, sql: &str, params: Array) -> std::result::Result<f64, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn exec(this: &JsConnection, sql: &str) -> std::result::Result<(), JsValue>;
    /// `true`/`false`, or `undefined` when the driver cannot tell.
    #[wasm_bindgen(method, catch, js_name = inTransaction)]
    fn in_transaction(this: &JsConnection) -> std::result::Result<JsValue, JsValue>;
    /// `exec`, then `inTransaction()` as a number: 1 open, 0 not, -1 when the driver
    /// cannot tell (a number crosses without a JS value to look into after). adapters.js
    /// adds it to every connection.
    #[wasm_bindgen(method, catch, js_name = execInTransaction)]
    fn exec_in_transaction(this: &JsConnection, sql: &str) -> std::result::Result<f64, JsValue>;
}

/// A driver's error as SQLite's message and code: node:sqlite's `errcode`,
/// sqlite-wasm's `resultCode`, or a name such as better-sqlite3's `SQLITE_BUSY`.
fn failure(e: JsValue) -> SqlFailure {
    let message = message(&e);
    let number = ["errcode", "resultCode"].iter().find_map(|k| get(&e, k).as_f64()).map(|n| n as i32);
    let named = get(&e, "code").as_string().and_then(|c| match c.as_str() {
        c if c.starts_with("SQLITE_BUSY") => Some(5),
        c if c.starts_with("SQLITE_LOCKED") => Some(6),
        _ => None,
    });
    SqlFailure { message, code: number.or(named) }
}

/// The parameters as a JS array. The texts cross as one string that JS splits: each
/// string crossing on its own is decoded on its own, and a history write of 1,000
/// applied revisions has 3,000 of them (a fifth of an npm CLI run's own time).
fn params_js(params: &[Param]) -> Array {
    let one = |p: &Param| match p {
        Param::Text(t) => JsValue::from_str(t),
        Param::Int(i) => JsValue::from_f64(*i as f64),
    };
    if params.len() < 2 || params.iter().any(|p| matches!(p, Param::Text(t) if t.contains('\0'))) {
        return params.iter().map(one).collect();
    }
    let texts: Vec<&str> = params.iter().map(|p| if let Param::Text(t) = p { *t } else { "" }).collect();
    let array = js_sys::JsString::from(texts.join("\0").as_str()).split("\0");
    for (i, p) in params.iter().enumerate() {
        if let Param::Int(_) = p {
            array.set(i as u32, one(p));
        }
    }
    array
}

/// A value of a row as text, as SQLite would show it.
pub(super) fn text(v: JsValue) -> Option<String> {
    if v.is_null() || v.is_undefined() {
        return None;
    }
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    // Numbers and BigInts (node:sqlite's readBigInts) as JS writes them (no float
    // formatting in the wasm).
    js_sys::JSON::stringify(&v).ok().map(String::from)
}

impl Connection for JsConnection {
    fn values(&mut self, sql: &str, params: &[Param]) -> std::result::Result<Vec<Option<String>>, SqlFailure> {
        let rows = JsConnection::values(self, sql, params_js(params)).map_err(failure)?;
        Ok(rows.iter().map(text).collect())
    }

    fn run(&mut self, sql: &str, params: &[Param]) -> std::result::Result<usize, SqlFailure> {
        JsConnection::run(self, sql, params_js(params)).map(|n| n as usize).map_err(failure)
    }

    fn exec(&mut self, sql: &str) -> std::result::Result<(), SqlFailure> {
        JsConnection::exec(self, sql).map_err(failure)
    }

    fn in_transaction(&mut self) -> Option<bool> {
        JsConnection::in_transaction(self).ok().and_then(|v| v.as_bool())
    }

    fn exec_in_transaction(&mut self, sql: &str) -> std::result::Result<Option<bool>, SqlFailure> {
        JsConnection::exec_in_transaction(self, sql).map(|v| (v >= 0.0).then_some(v > 0.0)).map_err(failure)
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }
}
