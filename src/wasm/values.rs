//! SQLite values to and from JS for `Migrator.query`: numbers stay numbers unless an
//! integer is past 2^53 (then a BigInt, so nothing is rounded), blobs are Uint8Arrays.

use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::error::{Error, Result};
use crate::sqlite::sql_error;

const MAX_SAFE: i64 = (1 << 53) - 1;

fn to_sqlite(v: &JsValue, index: u32) -> Result<Value> {
    if v.is_null() || v.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Integer(b.into()));
    }
    if let Some(n) = v.as_f64() {
        let whole = n.fract() == 0.0 && n.abs() <= MAX_SAFE as f64;
        return Ok(if whole { Value::Integer(n as i64) } else { Value::Real(n) });
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::Text(s));
    }
    if v.is_bigint() {
        let text = BigInt::from(v.clone()).to_string(10).map(String::from).unwrap_or_default();
        return text
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| Error::Usage(format!("parameter {index}: BigInt {text} does not fit SQLite's 64-bit integer")));
    }
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return Ok(Value::Blob(bytes.to_vec()));
    }
    Err(Error::Usage(format!("parameter {index}: only null, booleans, numbers, BigInts, strings and Uint8Arrays bind to SQLite")))
}

fn to_js(v: ValueRef<'_>) -> JsValue {
    match v {
        ValueRef::Null => JsValue::NULL,
        ValueRef::Integer(i) if (-MAX_SAFE..=MAX_SAFE).contains(&i) => JsValue::from_f64(i as f64),
        ValueRef::Integer(i) => BigInt::from(i).into(),
        ValueRef::Real(f) => JsValue::from_f64(f),
        ValueRef::Text(t) => JsValue::from_str(&String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => Uint8Array::from(b).into(),
    }
}

/// Runs one statement with positional parameters; rows as `{ column: value }` objects.
pub fn query(conn: &Connection, sql: &str, params: Option<Array>) -> Result<Array> {
    let values = params.map(|p| p.iter().zip(1..).map(|(v, i)| to_sqlite(&v, i)).collect::<Result<Vec<_>>>()).transpose()?.unwrap_or_default();
    let mut stmt = conn.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => Error::Usage("parameters bind to one statement: pass one statement per call".into()),
        e => sql_error(e),
    })?;
    let names: Vec<JsValue> = stmt.column_names().map(JsValue::from_str).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(values)).map_err(sql_error)?;
    let out = Array::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let o = Object::new();
        for (i, name) in names.iter().enumerate() {
            let v = row.get_ref(i).map_err(sql_error)?;
            // A fresh plain object takes any property.
            let _ = Reflect::set(&o, name, &to_js(v));
        }
        out.push(&o);
    }
    Ok(out)
}
