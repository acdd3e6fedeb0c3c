//! Migration sets from JS: `{ "path/abc_x.sql": text }` (what `import.meta.glob`
//! gives), or an array of file texts `{ name, text }` / plain strings, or revision
//! objects `{ revision, revises, branchLabels, dependsOn, message, upgrade, downgrade }`.

use super::js::get;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};
use crate::core::script::{split_list, Script};
use crate::core::source::{from_fields, from_text, RevisionFields};

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => split_list(&s),
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevisionObject {
    revision: String,
    #[serde(default)]
    revises: Option<OneOrMany>,
    #[serde(default)]
    branch_labels: Option<OneOrMany>,
    #[serde(default)]
    depends_on: Option<OneOrMany>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    create_date: Option<String>,
    upgrade: String,
    #[serde(default)]
    downgrade: Option<String>,
}

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
    let r: RevisionObject = serde_wasm_bindgen::from_value(entry.clone())
        .map_err(|e| bad(format!("`migrations[{i}]` is not a revision object {{ revision, upgrade, ... }}: {e}")))?;
    from_fields(RevisionFields {
        revision: r.revision,
        revises: r.revises.map(OneOrMany::into_vec).unwrap_or_default(),
        branch_labels: r.branch_labels.map(OneOrMany::into_vec).unwrap_or_default(),
        depends_on: r.depends_on.map(OneOrMany::into_vec).unwrap_or_default(),
        message: r.message,
        create_date: r.create_date,
        upgrade: r.upgrade,
        downgrade: r.downgrade,
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
    // two strings cross the boundary instead of two per file.
    if let (Some(names), Some(texts)) = (get(value, "joinedNames").as_string(), get(value, "joinedTexts").as_string()) {
        let names: Vec<&str> = names.split('\0').collect();
        let texts: Vec<&str> = texts.split('\0').collect();
        if names.len() != texts.len() {
            // The wrapper joins with NUL, so a NUL inside a file shows as a count mismatch.
            return Err(bad("a migration file name or text contains a NUL character"));
        }
        return names.iter().zip(texts).map(|(name, text)| from_text(name, text)).collect();
    }
    if js_sys::Array::is_array(value) {
        // Looked at by hand: serde's untagged enums build an error per failed guess,
        // which costs more than parsing a thousand files.
        return js_sys::Array::from(value).iter().enumerate().map(|(i, entry)| entry_script(i, &entry)).collect();
    }
    let map: std::collections::BTreeMap<String, String> = serde_wasm_bindgen::from_value(value.clone())
        .map_err(|e| bad(format!("`migrations` must be an array or an object of path -> file text: {e}")))?;
    map.iter().map(|(path, text)| from_text(path, text)).collect()
}
