//! Small helpers for building and reading plain JS objects at the boundary.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// Sets `key` on a plain object (which cannot refuse it).
pub fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// `obj[key]`, `undefined` when absent or unreadable.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// What a thrown JS value says: an `Error`'s message, a thrown string, or its debug text.
#[cfg(any(feature = "planner", feature = "commands", feature = "autogen"))]
pub fn message(e: &JsValue) -> String {
    use wasm_bindgen::JsCast;
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// A JS array of strings.
#[cfg(any(feature = "planner", feature = "sqlite"))]
pub fn strings(v: &[String]) -> js_sys::Array {
    v.iter().map(|s| JsValue::from_str(s)).collect()
}

/// `obj[key]` when it is absent (`undefined`/`null`) or a string; anything else is a
/// message naming the key. (Options are read by hand rather than through serde: a
/// smaller wasm.)
#[cfg(any(feature = "planner", feature = "sqlite"))]
pub fn opt_string(obj: &JsValue, key: &str) -> Result<Option<String>, String> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| format!("`{key}` must be a string"))
}

/// `obj[key]` as a boolean, `false` when absent (the embedded `Migrator`'s options).
#[cfg(feature = "sqlite")]
pub fn opt_bool(obj: &JsValue, key: &str) -> Result<bool, String> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(false);
    }
    v.as_bool().ok_or_else(|| format!("`{key}` must be true or false"))
}

/// `obj[key]` as a whole number in `0..=u32::MAX`, `None` when absent.
#[cfg(feature = "sqlite")]
pub fn opt_u32(obj: &JsValue, key: &str) -> Result<Option<u32>, String> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n >= 0.0 && n <= u32::MAX as f64 && n.fract() == 0.0 => Ok(Some(n as u32)),
        _ => Err(format!("`{key}` must be a whole number of milliseconds")),
    }
}

/// `obj[key]` as a list: absent is empty, a string is split at commas (as a header
/// line is), an array must hold strings.
#[cfg(any(feature = "planner", feature = "sqlite"))]
pub fn opt_list(obj: &JsValue, key: &str) -> Result<Vec<String>, String> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    if let Some(s) = v.as_string() {
        return Ok(crate::core::script::split_list(&s));
    }
    if js_sys::Array::is_array(&v) {
        return js_sys::Array::from(&v).iter().map(|e| e.as_string().ok_or_else(|| format!("`{key}` must hold strings"))).collect();
    }
    Err(format!("`{key}` must be a string or an array of strings"))
}
