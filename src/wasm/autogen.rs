//! `autogenerate(migrations, versionTable, declared, renames)`: autogenerate without
//! Node's file access, for the JS API. A free function rather than a `Migrator`
//! method: it needs only the migrations (it builds their head schema in a scratch
//! in-memory database), so it lives in the full wasm alone, which Node loads the first
//! time it is called, and the embedded wasm the browser loads stays without it.

use super::js::{set, strings};
use js_sys::Object;
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::input;
use crate::autogen;
use crate::core::error::Result;
use crate::core::graph::RevisionMap;

/// The declared schema's text against the schema the migrations build at their heads.
/// Returns `null` when they agree, else `{ changes, upgrade, downgrade,
/// upgradeTransactional, downgradeTransactional }`: the SQL `revision --autogenerate`
/// would write. `renames`: the CLI's `--rename` hints (`old=new`, `table.old=new`).
#[wasm_bindgen]
pub fn autogenerate(
    migrations: JsValue,
    version_table: Option<String>,
    declared: &str,
    renames: Vec<String>,
) -> std::result::Result<JsValue, JsValue> {
    generate(&migrations, version_table.as_deref().unwrap_or("alembic_version"), declared, &renames).map_err(to_js)
}

fn generate(migrations: &JsValue, version_table: &str, declared: &str, renames: &[String]) -> Result<JsValue> {
    let map = RevisionMap::new(input::scripts(migrations)?)?;
    let renames = autogen::Renames::parse(renames)?;
    let head = autogen::head_schema(&map, version_table)?;
    let want = autogen::schema_of_sql("schema.sql", declared)?;
    let Some(g) = autogen::generate_renaming(&head, &want, &renames)? else { return Ok(JsValue::NULL) };
    let o = Object::new();
    set(&o, "changes", strings(&g.changes));
    set(&o, "upgrade", g.upgrade.sql.as_str());
    set(&o, "downgrade", g.downgrade.sql.as_str());
    set(&o, "upgradeTransactional", g.upgrade.transactional);
    set(&o, "downgradeTransactional", g.downgrade.transactional);
    Ok(o.into())
}
