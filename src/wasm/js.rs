//! Small helpers for building and reading plain JS objects at the boundary.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// Sets `key` on a plain object (which cannot refuse it).
pub fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// `obj[key]`, `undefined` when absent or unreadable.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A JS array of strings.
pub fn strings(v: &[String]) -> Array {
    v.iter().map(|s| JsValue::from_str(s)).collect()
}
