//! Errors cross into JS as real `Error` objects with a stable `code` and a `data`
//! object of details, never as strings.

use super::js::set;
use js_sys::Object;
use wasm_bindgen::prelude::*;

use crate::core::error::Error;

#[wasm_bindgen(typescript_custom_section)]
const ERROR_CODES_TS: &'static str = r#"
export type ErrorCode = "PARSE_ERROR" | "DUPLICATE_REVISION" | "UNKNOWN_PARENT" | "DUPLICATE_LABEL" | "CYCLE" | "UNKNOWN_REVISION" | "AMBIGUOUS_REVISION" | "MULTIPLE_HEADS" | "INVALID_TARGET" | "IRREVERSIBLE" | "DATABASE_AHEAD" | "CHECKSUM_MISMATCH" | "MIGRATION_FAILED" | "LOCKED" | "VERSION_TABLE" | "SQLITE_ERROR" | "IO_ERROR" | "USAGE" | "SCHEMA_DIFF" | "NOT_UP_TO_DATE" | "OPFS_UNAVAILABLE" | "NODE_SQLITE_UNAVAILABLE" | "ROUND_TRIP_FAILED" | "LINT_FINDINGS" | "WORKER_FAILED";
"#;

/// The details of an error as a plain object (revision, file, line, statement...).
fn data(e: &Error) -> Object {
    let d = Object::new();
    match e {
        Error::Parse { file, line, .. } => {
            set(&d, "file", file.as_str());
            set(&d, "line", *line as u32);
        }
        Error::DuplicateRevision { revision, .. } | Error::Irreversible { revision, .. } | Error::DatabaseAhead { revision } => {
            set(&d, "revision", revision.as_str());
        }
        Error::ChecksumMismatch { revision, file, recorded, current } => {
            set(&d, "revision", revision.as_str());
            set(&d, "file", file.as_str());
            set(&d, "recorded", recorded.as_str());
            set(&d, "current", current.as_str());
        }
        Error::RedundantParent { revision, file, ancestor, descendant } => {
            set(&d, "revision", revision.as_str());
            set(&d, "file", file.as_str());
            set(&d, "ancestor", ancestor.as_str());
            set(&d, "descendant", descendant.as_str());
        }
        Error::UnknownParent { missing, from } => {
            set(&d, "revision", from.as_str());
            set(&d, "missing", missing.as_str());
        }
        Error::UnknownRevision { argument, .. } | Error::AmbiguousRevision { argument, .. } => {
            set(&d, "argument", argument.as_str());
        }
        Error::MultipleHeads { heads, .. } => {
            set(&d, "heads", heads.iter().map(|h| JsValue::from_str(h)).collect::<js_sys::Array>());
        }
        Error::MigrationFailed(f) => {
            set(&d, "revision", f.revision.as_str());
            set(&d, "file", f.file.as_str());
            set(&d, "line", f.line as u32);
            set(&d, "statement", f.statement.as_str());
            set(&d, "sqliteMessage", f.sqlite_message.as_str());
            if let Some(code) = f.sqlite_code {
                set(&d, "sqliteCode", code);
            }
        }
        Error::Sqlite { code: Some(code), .. } => set(&d, "sqliteCode", *code),
        Error::OpfsUnavailable(reason) | Error::NodeSqliteUnavailable(reason) => set(&d, "reason", reason.as_str()),
        Error::RoundTripFailed { step, revision, .. } => {
            set(&d, "step", step.as_str());
            if let Some(r) = revision {
                set(&d, "revision", r.as_str());
            }
        }
        Error::LintFindings { count, .. } => set(&d, "count", *count as u32),
        _ => {}
    }
    d
}

/// An athanor error as a JS `Error` with `code` and `data`.
pub fn to_js(e: Error) -> JsValue {
    #[allow(unused_mut)]
    let mut message = e.to_string();
    #[cfg(feature = "sqlite")]
    if let Some(hint) = missing_module_hint(&e) {
        message.push_str(hint);
    }
    let err = js_sys::Error::new(&message);
    err.set_name("MigrationError");
    set(&err, "code", e.code());
    set(&err, "data", data(&e));
    err.into()
}

/// Where SQLite's FTS5 and R*Tree are when the embedded engine's SQLite says it has no
/// such module: the browsers' default wasm leaves them out (wasm-pack.toml), the wasm of
/// `athanor/extended` has them. (Only the embedded engine's errors come here with its
/// own SQLite's words; a host's SQLite is the host's.)
#[cfg(feature = "sqlite")]
fn missing_module_hint(e: &Error) -> Option<&'static str> {
    let sqlite = match e {
        Error::MigrationFailed(f) => f.sqlite_message.as_str(),
        Error::Sqlite { message, .. } => message.as_str(),
        _ => return None,
    };
    let module = sqlite.strip_prefix("no such module: ")?;
    (module.starts_with("fts5") || module.starts_with("rtree")).then_some(
        " (athanor's browser build leaves SQLite's FTS5 and R*Tree out, to keep the download small: import openMigrator from \"athanor/extended\" to have them, or give athanor/slim's init() athanor_ext_bg.wasm)",
    )
}

/// The `NODE_SQLITE_UNAVAILABLE` error, for the JS API's own check (one wording, here).
#[wasm_bindgen(js_name = nodeSqliteUnavailable)]
pub fn node_sqlite_unavailable(reason: &str) -> JsValue {
    to_js(Error::NodeSqliteUnavailable(reason.to_string()))
}
