//! Migration sets from JS: `{ "path/abc_x.sql": text }` (what `import.meta.glob`
//! gives), or an array of file texts `{ name, text }` / plain strings, or revision
//! objects `{ revision, revises, branchLabels, dependsOn, message, upgrade, downgrade }`.

use super::js::{get, opt_list, opt_string};
use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};
use crate::core::script::Script;
use crate::core::source::{from_fields, from_text, RevisionFields};

/// One array entry: a file text, `{ name, text }`, or a revision object.
fn entry_script(i: usize, entry: &JsValue) -> Result<Script> {
    if let Some(text) = entry.as_string() {
        // A bare text has no file name: sort by its position.
        return from_text(&format!("{i:06}.sql"), &text);
    }
    if !entry.is_object() {
        return Err(bad(format!("`migrations[{i}]` must be a file text, {{ name, text }} or a revision object")));
    }
    if let Some(text) = get(entry, "text").as_string() {
        let name = get(entry, "name").as_string().ok_or_else(|| bad(format!("`migrations[{i}]` has text but no name")))?;
        return from_text(&name, &text);
    }
    let fields = revision_object(entry).map_err(|e| bad(format!("`migrations[{i}]` is not a revision object {{ revision, upgrade, ... }}: {e}")))?;
    from_fields(fields)
}

/// `{ revision, revises, branchLabels, dependsOn, message, createDate, upgrade, downgrade }`.
fn revision_object(o: &JsValue) -> std::result::Result<RevisionFields, String> {
    let required = |key: &str| opt_string(o, key)?.ok_or_else(|| format!("missing field `{key}`"));
    Ok(RevisionFields {
        revision: required("revision")?,
        revises: opt_list(o, "revises")?,
        branch_labels: opt_list(o, "branchLabels")?,
        depends_on: opt_list(o, "dependsOn")?,
        message: opt_string(o, "message")?.unwrap_or_default(),
        create_date: opt_string(o, "createDate")?,
        upgrade: required("upgrade")?,
        downgrade: opt_string(o, "downgrade")?,
    })
}

fn bad(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

/// Reads a JS migration set into scripts.
pub fn scripts(value: &JsValue) -> Result<Vec<Script>> {
    if value.is_undefined() || value.is_null() {
        return Err(bad("`migrations` is required"));
    }
    // The JS wrapper joins file names and texts with NUL (which no SQL file can hold):
    // two values cross the boundary instead of two per file. Both come as UTF-8 bytes:
    // copying bytes in is cheaper than wasm-bindgen's string transcoding, a JS loop
    // over every character that runs cold on a page load (1,000 names: 1 ms).
    let joined_texts = get(value, "joinedTexts");
    let joined_names = get(value, "joinedNames");
    let names = match joined_names.dyn_into::<js_sys::Uint8Array>() {
        Ok(bytes) => Some(String::from_utf8(bytes.to_vec()).map_err(|_| bad("the migration file names are not valid UTF-8"))?),
        Err(_) => None,
    };
    if let (Some(names), true) = (names, joined_texts.is_instance_of::<js_sys::Uint8Array>()) {
        let bytes = js_sys::Uint8Array::from(joined_texts).to_vec();
        let texts = std::str::from_utf8(&bytes).map_err(|_| bad("the migration texts are not valid UTF-8"))?;
        let names: Vec<&str> = names.split('\0').collect();
        let texts: Vec<&str> = texts.split('\0').collect();
        if names.len() != texts.len() {
            // The wrapper joins with NUL, so a NUL inside a file shows as a count mismatch.
            return Err(bad("a migration file name or text contains a NUL character"));
        }
        return names.iter().zip(texts).map(|(name, text)| from_text(name, text)).collect();
    }
    if js_sys::Array::is_array(value) {
        return js_sys::Array::from(value).iter().enumerate().map(|(i, entry)| entry_script(i, &entry)).collect();
    }
    // `{ path: text }`, taken in key order (the file names sort the load order anyway).
    let not_text = || bad("`migrations` must be an array or an object of path -> file text");
    if !value.is_object() {
        return Err(not_text());
    }
    let mut entries: Vec<(String, String)> = Vec::new();
    for entry in js_sys::Object::entries(value.unchecked_ref()).iter() {
        let pair = js_sys::Array::from(&entry);
        let (Some(path), Some(text)) = (pair.get(0).as_string(), pair.get(1).as_string()) else { return Err(not_text()) };
        entries.push((path, text));
    }
    crate::core::order::sort_by(&mut entries, |a, b| a.0 < b.0);
    entries.iter().map(|(path, text)| from_text(path, text)).collect()
}
