//! The wasm build under wasm-bindgen-test in Node: the exported `Migrator` on the
//! embedded SQLite, errors as JS `Error`s with a `code`.
#![cfg(target_arch = "wasm32")]

use athanor::wasm::Migrator;
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

fn file(id: &str, revises: &str, up: &str, down: &str) -> JsValue {
    let text =
        format!("-- Revision ID: {id}\n-- Revises: {revises}\n-- Message: step {id}\n\n-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n{down}\n");
    let o = js_sys::Object::new();
    Reflect::set(&o, &"name".into(), &format!("{id}_step.sql").into()).unwrap();
    Reflect::set(&o, &"text".into(), &text.into()).unwrap();
    o.into()
}

fn chain() -> JsValue {
    let a = Array::new();
    a.push(&file("aaaa0001", "", "CREATE TABLE t1 (id INTEGER PRIMARY KEY);", "DROP TABLE t1;"));
    a.push(&file("bbbb0002", "aaaa0001", "CREATE TABLE t2 (id INTEGER PRIMARY KEY);", "DROP TABLE t2;"));
    a.push(&file("cccc0003", "bbbb0002", "CREATE TABLE t3 (id INTEGER PRIMARY KEY);", "DROP TABLE t3;"));
    a.into()
}

fn code(e: &JsValue) -> String {
    Reflect::get(e, &"code".into()).unwrap().as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn upgrade_downgrade_current_in_memory() {
    let m = Migrator::new(chain(), JsValue::UNDEFINED).unwrap();
    assert_eq!(m.current().unwrap(), Vec::<String>::new());
    let report = m.upgrade(Some("heads".into()), None).unwrap();
    let steps = Array::from(&Reflect::get(&report, &"steps".into()).unwrap());
    assert_eq!(steps.length(), 3);
    assert_eq!(m.current().unwrap(), vec!["cccc0003".to_string()]);
    m.downgrade("-2".into(), None).unwrap();
    assert_eq!(m.rows().unwrap(), vec!["aaaa0001".to_string()]);
    assert_eq!(m.heads(), vec!["cccc0003".to_string()]);
}

#[wasm_bindgen_test]
fn errors_are_js_errors_with_codes() {
    let m = Migrator::new(chain(), JsValue::UNDEFINED).unwrap();
    let e = m.upgrade(Some("zzzz".into()), None).unwrap_err();
    assert!(e.is_instance_of::<js_sys::Error>());
    assert_eq!(code(&e), "UNKNOWN_REVISION");
    let bad = Array::new();
    bad.push(&"-- Revision ID: a1\n-- migrate:upgrade\n".into());
    let e = Migrator::new(bad.into(), JsValue::UNDEFINED).err().unwrap();
    assert_eq!(code(&e), "PARSE_ERROR");
}

#[wasm_bindgen_test]
fn failing_migration_rolls_back_and_names_the_revision() {
    let a = Array::from(&chain());
    a.push(&file("dddd0004", "cccc0003", "CREATE TABLE t4 (x);\nINSERT INTO nope VALUES (1);", "DROP TABLE t4;"));
    let m = Migrator::new(a.into(), JsValue::UNDEFINED).unwrap();
    let e = m.upgrade(None, None).unwrap_err();
    assert_eq!(code(&e), "MIGRATION_FAILED");
    let data = Reflect::get(&e, &"data".into()).unwrap();
    assert_eq!(Reflect::get(&data, &"revision".into()).unwrap().as_string().unwrap(), "dddd0004");
    assert_eq!(Reflect::get(&data, &"line".into()).unwrap().as_f64().unwrap(), 7.0);
    assert_eq!(m.rows().unwrap(), Vec::<String>::new());
}

#[wasm_bindgen_test]
fn offline_plan_is_alembic_shaped() {
    let m = Migrator::new(chain(), JsValue::UNDEFINED).unwrap();
    let sql = m.plan("upgrade", "heads", Some(vec![])).unwrap();
    assert!(sql.starts_with("CREATE TABLE alembic_version ("));
    assert!(sql.contains("-- Running upgrade  -> aaaa0001\n\nCREATE TABLE t1 (id INTEGER PRIMARY KEY);\n\nINSERT INTO alembic_version (version_num) VALUES ('aaaa0001');"));
    assert_eq!(m.rows().unwrap(), Vec::<String>::new());
}

/// The CLI's wasm hashes checksums four at a time in SIMD lanes (core::sha256), which
/// only a wasm build with the `commands` feature compiles: the same digests as `sha2`,
/// for lengths around the block and padding edges, grouped so lanes end at different
/// blocks.
#[wasm_bindgen_test]
fn lane_digests_are_sha256() {
    use sha2::{Digest, Sha256};
    let messages: Vec<Vec<u8>> = (0..300).map(|n| (0..n).map(|i| (i * 7 + n) as u8).collect()).collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    for group in [&refs[..], &refs[1..], &refs[..3], &refs[200..201], &refs[..0]] {
        let want: Vec<[u8; 32]> = group.iter().map(|m| Sha256::digest(m).into()).collect();
        assert_eq!(athanor::core::sha256::digests(group), want);
    }
}
