//! The "athanor-node" VFS under wasm-bindgen-test in Node: the wasm SQLite on a real
//! file that the `sqlite3` shell reads, with its journal, its locks between
//! connections, stale locks of dead processes, and page-sized reads of a large file.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::sync::{Arc, Mutex};

use athanor::core::graph::RevisionMap;
use athanor::core::source::from_text;
use athanor::sqlite::runner::{Engine, Options};
use athanor::wasm::{install_node_vfs, Migrator};
use js_sys::{Array, Function, Object, Reflect};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

#[wasm_bindgen(module = "/pkg-template/node-vfs.js")]
extern "C" {
    #[wasm_bindgen(js_name = nodeVfsHost)]
    fn node_vfs_host() -> Object;
}

#[wasm_bindgen(module = "node:fs")]
extern "C" {
    #[wasm_bindgen(js_name = mkdtempSync)]
    fn mkdtemp_sync(prefix: &str) -> String;
    #[wasm_bindgen(js_name = existsSync)]
    fn exists_sync(path: &str) -> bool;
    #[wasm_bindgen(js_name = readFileSync)]
    fn read_file_sync(path: &str) -> js_sys::Uint8Array;
    #[wasm_bindgen(js_name = writeFileSync)]
    fn write_file_sync(path: &str, data: &str);
    #[wasm_bindgen(js_name = readdirSync)]
    fn readdir_sync(path: &str) -> Vec<String>;
    #[wasm_bindgen(js_name = statSync)]
    fn stat_sync(path: &str) -> JsValue;
    #[wasm_bindgen(js_name = utimesSync)]
    fn utimes_sync(path: &str, atime: f64, mtime: f64);
    #[wasm_bindgen(js_name = unlinkSync)]
    fn unlink_sync(path: &str);
    #[wasm_bindgen(js_name = rmSync)]
    fn rm_sync(path: &str, options: &JsValue);
}

#[wasm_bindgen(module = "node:os")]
extern "C" {
    fn tmpdir() -> String;
    fn hostname() -> String;
}

#[wasm_bindgen(module = "node:child_process")]
extern "C" {
    #[wasm_bindgen(js_name = execFileSync, catch)]
    fn exec_file_sync(file: &str, args: Vec<String>, options: &JsValue) -> Result<JsValue, JsValue>;
}

/// Installs the VFS once, with `readSync` wrapped to record every read's length in
/// `globalThis.athanorReads` (the large-file test checks nothing reads the whole file).
fn install() {
    thread_local!(static DONE: Cell<bool> = const { Cell::new(false) });
    if DONE.get() {
        return;
    }
    let host = node_vfs_host();
    let wrap = Function::new_with_args(
        "host",
        "const read = host.readSync;
         globalThis.athanorReads = { count: 0, max: 0, bytes: 0 };
         host.readSync = (fd, buf, off, len, pos) => {
           const s = globalThis.athanorReads;
           s.count++; s.max = Math.max(s.max, len); s.bytes += len;
           return read(fd, buf, off, len, pos);
         };",
    );
    wrap.call1(&JsValue::NULL, &host).unwrap();
    install_node_vfs(host.into()).unwrap();
    DONE.set(true);
}

fn reads() -> (f64, f64, f64) {
    let s = Reflect::get(&js_sys::global(), &"athanorReads".into()).unwrap();
    let n = |k: &str| Reflect::get(&s, &k.into()).unwrap().as_f64().unwrap();
    (n("count"), n("max"), n("bytes"))
}

fn reset_reads() {
    let s = Reflect::get(&js_sys::global(), &"athanorReads".into()).unwrap();
    for k in ["count", "max", "bytes"] {
        Reflect::set(&s, &k.into(), &0.into()).unwrap();
    }
}

fn temp_dir() -> String {
    mkdtemp_sync(&format!("{}/athanor-vfs-", tmpdir()))
}

fn remove_dir(dir: &str) {
    let opts = Object::new();
    Reflect::set(&opts, &"recursive".into(), &true.into()).unwrap();
    rm_sync(dir, &opts);
}

fn file(id: &str, revises: &str, up: &str, down: &str) -> JsValue {
    let text =
        format!("-- Revision ID: {id}\n-- Revises: {revises}\n-- Message: step {id}\n\n-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n{down}\n");
    let o = Object::new();
    Reflect::set(&o, &"name".into(), &format!("{id}_step.sql").into()).unwrap();
    Reflect::set(&o, &"text".into(), &text.into()).unwrap();
    o.into()
}

fn chain() -> JsValue {
    let a = Array::new();
    a.push(&file("aaaa0001", "", "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nINSERT INTO t1 VALUES (42);", "DROP TABLE t1;"));
    a.push(&file("bbbb0002", "aaaa0001", "CREATE TABLE t2 (id INTEGER PRIMARY KEY);", "DROP TABLE t2;"));
    a.push(&file("cccc0003", "bbbb0002", "CREATE TABLE t3 (id INTEGER PRIMARY KEY);", "DROP TABLE t3;"));
    a.into()
}

fn config(database: &str, busy_timeout_ms: Option<u32>) -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"database".into(), &database.into()).unwrap();
    if let Some(ms) = busy_timeout_ms {
        Reflect::set(&o, &"busyTimeout".into(), &ms.into()).unwrap();
    }
    o.into()
}

fn code(e: &JsValue) -> String {
    Reflect::get(e, &"code".into()).unwrap().as_string().unwrap_or_default()
}

fn message(e: &JsValue) -> String {
    Reflect::get(e, &"message".into()).unwrap().as_string().unwrap_or_default()
}

fn open(path: &str) -> Connection {
    Connection::open_with_flags_and_vfs(path, OpenFlags::default(), "athanor-node").unwrap()
}

/// Runs Debian's sqlite3 shell on the file; its stdout.
fn sqlite3(path: &str, sql: &str) -> String {
    let opts = Object::new();
    Reflect::set(&opts, &"encoding".into(), &"utf8".into()).unwrap();
    exec_file_sync("/usr/bin/sqlite3", vec![path.into(), sql.into()], &opts).unwrap().as_string().unwrap()
}

fn size_of(path: &str) -> f64 {
    Reflect::get(&stat_sync(path), &"size".into()).unwrap().as_f64().unwrap()
}

#[wasm_bindgen_test]
fn migrated_file_is_a_real_sqlite_database() {
    install();
    let dir = temp_dir();
    let db = format!("{dir}/app.db");
    let m = Migrator::new(chain(), config(&db, None)).unwrap();
    m.upgrade(None, None).unwrap();
    drop(m);

    let header = read_file_sync(&db).subarray(0, 16).to_vec();
    assert_eq!(&header, b"SQLite format 3\0");
    // Nothing left beside it: no journal, no lock files.
    assert_eq!(readdir_sync(&dir), vec!["app.db".to_string()]);

    let out = sqlite3(&db, "PRAGMA integrity_check; SELECT version_num FROM alembic_version; SELECT id FROM t1; SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..3], &["ok", "cccc0003", "42"], "{out}");
    for table in ["alembic_version", "t1", "t2", "t3"] {
        assert!(lines[3..].contains(&table), "{table} missing: {out}");
    }

    // What the shell writes, the VFS reads; reopening sees the migrated state.
    sqlite3(&db, "INSERT INTO t1 VALUES (7);");
    let m = Migrator::new(chain(), config(&db, None)).unwrap();
    assert_eq!(m.current().unwrap(), vec!["cccc0003".to_string()]);
    m.downgrade("aaaa0001".into(), None).unwrap();
    drop(m);
    let conn = open(&db);
    let ids: Vec<i64> = conn.prepare("SELECT id FROM t1 ORDER BY id").unwrap().query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(ids, vec![7, 42]);
    drop(conn);
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check; SELECT version_num FROM alembic_version;"), "ok\naaaa0001\n");
    remove_dir(&dir);
}

#[wasm_bindgen_test]
fn journal_exists_only_during_a_write_transaction() {
    install();
    let dir = temp_dir();
    let db = format!("{dir}/j.db");
    let journal = format!("{db}-journal");
    let conn = open(&db);
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    assert!(!exists_sync(&journal));
    conn.execute_batch("BEGIN; INSERT INTO t VALUES (2);").unwrap();
    assert!(exists_sync(&journal), "no rollback journal during the transaction");
    assert!(size_of(&journal) > 0.0);
    // The write lock is recorded while held...
    assert!(std::str::from_utf8(&read_file_sync(&format!("{db}-locks")).to_vec()).unwrap().starts_with("S\t"));
    conn.execute_batch("COMMIT").unwrap();
    assert!(!exists_sync(&journal), "journal left after commit");
    // ...and nothing is left once released.
    assert!(!exists_sync(&format!("{db}-locks")) && !exists_sync(&format!("{db}-lock")));
    assert_eq!(conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0)).unwrap(), "delete");
    drop(conn);
    remove_dir(&dir);
}

#[wasm_bindgen_test]
fn second_writer_gets_locked_after_its_busy_timeout() {
    install();
    let dir = temp_dir();
    let db = format!("{dir}/busy.db");
    let holder = open(&db);
    holder.execute_batch("CREATE TABLE x (v); BEGIN IMMEDIATE; INSERT INTO x VALUES (1);").unwrap();

    let m = Migrator::new(chain(), config(&db, Some(300))).unwrap();
    // Reading is allowed while the other connection only holds RESERVED.
    assert_eq!(m.rows().unwrap(), Vec::<String>::new());
    let start = js_sys::Date::now();
    let e = m.upgrade(None, None).unwrap_err();
    let waited = js_sys::Date::now() - start;
    assert_eq!(code(&e), "LOCKED", "{}", message(&e));
    // The busy handler really slept (Atomics.wait), and gave up at the timeout.
    assert!((250.0..3000.0).contains(&waited), "waited {waited} ms");

    holder.execute_batch("COMMIT").unwrap();
    m.upgrade(None, None).unwrap();
    assert_eq!(m.current().unwrap(), vec!["cccc0003".to_string()]);
    drop((m, holder));
    remove_dir(&dir);
}

#[wasm_bindgen_test]
fn reader_waits_while_a_writer_holds_exclusive() {
    install();
    let dir = temp_dir();
    let db = format!("{dir}/excl.db");
    let writer = open(&db);
    writer.execute_batch("CREATE TABLE x (v); INSERT INTO x VALUES (1);").unwrap();
    let reader = open(&db);
    reader.busy_timeout(std::time::Duration::from_millis(100)).unwrap();
    assert_eq!(reader.query_row("SELECT count(*) FROM x", [], |r| r.get::<_, i64>(0)).unwrap(), 1);

    writer.execute_batch("BEGIN EXCLUSIVE; INSERT INTO x VALUES (2);").unwrap();
    let e = reader.query_row("SELECT count(*) FROM x", [], |r| r.get::<_, i64>(0)).unwrap_err();
    assert_eq!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy), "{e}");
    writer.execute_batch("COMMIT").unwrap();
    assert_eq!(reader.query_row("SELECT count(*) FROM x", [], |r| r.get::<_, i64>(0)).unwrap(), 2);
    drop((reader, writer));
    remove_dir(&dir);
}

/// A → B → C where B's upgrade runs outside the run's transaction (a table rebuild's
/// shape), counts its runs, and calls `race()`.
fn race_map() -> RevisionMap {
    let script = |id: &str, revises: &str, marker: &str, up: &str| {
        let text = format!("-- Revision ID: {id}\n-- Revises: {revises}\n\n-- migrate:upgrade{marker}\n{up}\n\n-- migrate:downgrade\n");
        from_text(&format!("{id}_step.sql"), &text).unwrap()
    };
    RevisionMap::new(vec![
        script("aaaa0001", "", "", "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"),
        script("bbbb0002", "aaaa0001", " transaction:false", "CREATE TABLE IF NOT EXISTS runs (n);\nINSERT INTO runs VALUES (1);\nSELECT race();"),
        script("cccc0003", "bbbb0002", "", "CREATE TABLE t3 (id INTEGER PRIMARY KEY);"),
    ])
    .unwrap()
}

#[wasm_bindgen_test]
fn a_transaction_false_section_runs_once_while_a_second_migrator_tries_the_same_step() {
    // As tests/sqlite_errors.rs checks natively, through this VFS's file locks: while
    // B's section runs, a second migrator on its own connection upgrades the same file.
    // It must not run B again: the first keeps the file locked until B's version row is
    // committed (and waits for the second here), so the second ends LOCKED.
    install();
    let dir = temp_dir();
    let db = format!("{dir}/race.db");
    let conn = open(&db);
    let map = race_map();
    let engine = Engine::new(&conn, &map, Options::default());
    engine.upgrade("aaaa0001", &mut |_| {}).unwrap();
    let second: Arc<Mutex<Option<Result<usize, &str>>>> = Arc::default();
    let (path, out) = (db.clone(), second.clone());
    conn.create_scalar_function("race", 0, FunctionFlags::SQLITE_UTF8, move |_| {
        let other = open(&path);
        other.busy_timeout(std::time::Duration::from_millis(100)).unwrap();
        other.create_scalar_function("race", 0, FunctionFlags::SQLITE_UTF8, |_| Ok(0)).unwrap();
        let map = race_map();
        let r = Engine::new(&other, &map, Options::default()).upgrade("heads", &mut |_| {});
        *out.lock().unwrap() = Some(r.map(|r| r.plan.steps.len()).map_err(|e| e.code()));
        Ok(0)
    })
    .unwrap();
    let report = engine.upgrade("heads", &mut |_| {});
    let second = second.lock().unwrap().take();
    assert!(matches!(second, Some(Err("LOCKED"))), "the second migrator got {second:?}");
    assert_eq!(report.map(|r| r.plan.steps.len()), Ok(2));
    assert_eq!(conn.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0)).unwrap(), 1, "B's section ran twice");
    assert_eq!(engine.current_rows().unwrap(), vec!["cccc0003".to_string()]);
    // Released while the connection stays open: no lock or journal files, and another
    // connection takes the exclusive lock at once.
    assert_eq!(readdir_sync(&dir), vec!["race.db".to_string()]);
    open(&db).execute_batch("BEGIN EXCLUSIVE; ROLLBACK").unwrap();
    drop(conn);
    remove_dir(&dir);
}

/// The pid of a process that has exited.
fn dead_pid() -> String {
    let opts = Object::new();
    Reflect::set(&opts, &"encoding".into(), &"utf8".into()).unwrap();
    let node = Reflect::get(&Reflect::get(&js_sys::global(), &"process".into()).unwrap(), &"execPath".into()).unwrap().as_string().unwrap();
    exec_file_sync(&node, vec!["-e".into(), "process.stdout.write(String(process.pid))".into()], &opts).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
fn locks_of_a_dead_process_are_broken() {
    install();
    let dir = temp_dir();
    let db = format!("{dir}/stale.db");
    Migrator::new(chain(), config(&db, None)).unwrap().upgrade(Some("aaaa0001".into()), None).unwrap();
    let (pid, host) = (dead_pid(), hostname());
    // A process killed mid-commit: it held EXCLUSIVE, and even the table's mutex.
    write_file_sync(&format!("{db}-locks"), &format!("S\t{pid}\tdead\t{host}\nX\t{pid}\tdead\t{host}\n"));
    write_file_sync(&format!("{db}-lock"), &format!("M\t{pid}\tdead\t{host}\n"));

    let m = Migrator::new(chain(), config(&db, Some(2000))).unwrap();
    let start = js_sys::Date::now();
    m.upgrade(None, None).unwrap();
    assert!(js_sys::Date::now() - start < 1500.0, "waited for a dead holder");
    assert_eq!(m.current().unwrap(), vec!["cccc0003".to_string()]);
    drop(m);
    assert!(!exists_sync(&format!("{db}-locks")) && !exists_sync(&format!("{db}-lock")));

    // A mutex whose writer died before writing its owner is broken once old.
    write_file_sync(&format!("{db}-lock"), "");
    let old = js_sys::Date::now() / 1000.0 - 60.0;
    utimes_sync(&format!("{db}-lock"), old, old);
    let m = Migrator::new(chain(), config(&db, Some(2000))).unwrap();
    m.downgrade("bbbb0002".into(), None).unwrap();
    drop(m);

    // A live holder (pid 1 always exists) is respected.
    write_file_sync(&format!("{db}-locks"), &format!("R\t1\tlive\t{host}\n"));
    let m = Migrator::new(chain(), config(&db, Some(200))).unwrap();
    assert_eq!(code(&m.upgrade(None, None).unwrap_err()), "LOCKED");
    unlink_sync(&format!("{db}-locks"));
    m.upgrade(None, None).unwrap();
    drop(m);
    remove_dir(&dir);
}

#[wasm_bindgen_test]
fn large_file_is_read_page_by_page() {
    install();
    let dir = temp_dir();
    let db = format!("{dir}/big.db");
    let big = Array::new();
    big.push(&file(
        "b1000001",
        "",
        "CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB NOT NULL);\n\
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)\n\
         INSERT INTO big SELECT i, randomblob(1000) FROM n;",
        "DROP TABLE big;",
    ));
    Migrator::new(big.clone().into(), config(&db, None)).unwrap().upgrade(None, None).unwrap();
    let size = size_of(&db);
    assert!(size > 20e6, "file is {size} bytes");

    reset_reads();
    let conn = open(&db);
    conn.execute_batch("PRAGMA cache_size = 64").unwrap();
    let (rows, bytes): (i64, i64) = conn.query_row("SELECT count(*), sum(length(b)) FROM big", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((rows, bytes), (20_000, 20_000_000));
    let (count, max, total) = reads();
    let page: f64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    // Every page read once, each read at most a page: never the file at once.
    assert!(max <= page, "a read of {max} bytes");
    assert!(total >= 20e6 && count >= size / page * 0.9, "{count} reads, {total} bytes");
    drop(conn);
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check; SELECT count(*) FROM big;"), "ok\n20000\n");
    remove_dir(&dir);
}

#[wasm_bindgen_test]
fn bad_host_and_unopenable_file_are_clear_errors() {
    let e = install_node_vfs(Object::new().into()).unwrap_err();
    assert_eq!(code(&e), "USAGE");
    assert!(message(&e).contains("openSync") && message(&e).contains("processAlive"), "{}", message(&e));

    install();
    let e = Migrator::new(chain(), config("/nonexistent-athanor-dir/x.db", None)).err().unwrap();
    assert_eq!(code(&e), "IO_ERROR");
    assert!(message(&e).contains("ENOENT"), "{}", message(&e));
}
