//! A host's SQLite as the core's [`Connection`]: a JS connection's three primitives
//! (node:sqlite, better-sqlite3, bun:sqlite, sqlite-wasm, a Durable Object's storage:
//! adapters.js builds them). The `Planner`'s runs on it are in `planner_run.rs`; the
//! CLI's database and `adopt` use it too. Nothing of a run is decided in JS.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js::{get, message};
use crate::core::connection::{exec_one_by_one, Connection, Param};
use crate::core::run::{SqlFailure, Stopped};

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
    /// `exec` of each NUL-separated statement in order, stopping at the first that
    /// throws (as `{ at, error }`) or, with `keepOpen`, after which `inTransaction()` is
    /// false (its index is returned; -1 when all ran). adapters.js adds it to every
    /// connection: a section's statements in one crossing, and its text decoded once.
    #[wasm_bindgen(method, catch, js_name = execEach)]
    fn exec_each(this: &JsConnection, joined: &str, keep_open: bool) -> std::result::Result<f64, JsValue>;
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

    fn exec_each(&mut self, statements: &[&str], keep_open: bool) -> std::result::Result<(), Stopped> {
        // A NUL cannot be in a migration (refused when read): one elsewhere goes alone.
        if statements.is_empty() || statements.iter().any(|s| s.contains('\0')) {
            return exec_one_by_one(self, statements, keep_open);
        }
        match JsConnection::exec_each(self, &statements.join("\0"), keep_open) {
            Ok(at) if at >= 0.0 => Err(Stopped::Closed { at: at as usize }),
            Ok(_) => Ok(()),
            Err(thrown) => {
                let at = get(&thrown, "at").as_f64();
                let failure = failure(at.map_or(thrown.clone(), |_| get(&thrown, "error")));
                Err(Stopped::Failed { at: at.map_or(0, |a| a as usize).min(statements.len() - 1), failure })
            }
        }
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }
}
