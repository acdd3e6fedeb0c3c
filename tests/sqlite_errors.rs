//! Every error code, driven through the library and through the CLI layer: the stable
//! code, the exact message (which names the file, line or revision), and a database
//! file left exactly as it was (same sqlite_master, same rows, same bytes, no stray
//! journal or new file beside it). SPEC "Bad input": every malformed input fails
//! clearly and changes nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use athanor::cli::commands::load_map;
use athanor::cli::{self, NativeHost, Output};
use athanor::core::error::StatementFailure;
use athanor::core::graph::RevisionMap;
use athanor::sqlite::runner::{Engine, Event, Options, Report, TransactionMode};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;

const A: &str = "aaaa0001";
const B: &str = "bbbb0002";
const C: &str = "cccc0003";
const FA: &str = "aaaa0001_create_t1.sql";
const FB: &str = "bbbb0002_create_t2.sql";
const FC: &str = "cccc0003_create_t3.sql";
const UP_A: &str = "CREATE TABLE t1 (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t1 VALUES (1, 'one');";
const UP_B: &str = "CREATE TABLE t2 (id INTEGER PRIMARY KEY);";
const UP_C: &str = "CREATE TABLE t3 (id INTEGER PRIMARY KEY);";

/// A migration file. Line 1 id, 2 revises, 3 message, 4 extra headers or blank,
/// 5 `-- migrate:upgrade`, 6 the first upgrade line.
fn script_h(id: &str, revises: &str, headers: &str, up: &str, down: Option<&str>) -> String {
    let mut s = format!("-- Revision ID: {id}\n-- Revises: {revises}\n-- Message: step {id}\n{headers}\n-- migrate:upgrade\n{up}\n");
    if let Some(d) = down {
        s.push_str(&format!("\n-- migrate:downgrade\n{d}\n"));
    }
    s
}

fn script(id: &str, revises: &str, up: &str, down: Option<&str>) -> String {
    script_h(id, revises, "", up, down)
}

/// The checksum as `Script::checksum` documents it, computed independently.
fn checksum(id: &str, upgrade_sql: &str) -> String {
    use sha2::{Digest, Sha256};
    let sql = upgrade_sql.replace("\r\n", "\n");
    let digest = Sha256::digest(format!("athanor-v1\n{id}\n{}", sql.trim()).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What "unchanged" compares: the files beside the database (journals, a new file),
/// a logical dump, and the raw bytes.
struct Snap {
    files: Vec<String>,
    dump: Option<String>,
    bytes: Option<Vec<u8>>,
}

/// sqlite_master plus every table's rows in rowid order, read through a read-only
/// connection so that taking the dump cannot itself change the file.
fn dump(path: &Path) -> String {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut out = String::new();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    out.push_str(&format!("user_version {version}\n"));
    let master = query_all(&conn, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");
    let mut tables = vec![];
    for row in &master {
        out.push_str(&format!("master {row:?}\n"));
        if let (Value::Text(t), Value::Text(name)) = (&row[0], &row[1]) {
            if t == "table" {
                tables.push(name.clone());
            }
        }
    }
    for t in tables {
        for row in query_all(&conn, &format!("SELECT * FROM \"{t}\" ORDER BY rowid")) {
            out.push_str(&format!("{t} {row:?}\n"));
        }
    }
    out
}

fn query_all(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut st = conn.prepare(sql).unwrap();
    let n = st.column_count();
    let rows = st.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>()).unwrap();
    rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
}

/// A temp project: `migrations/` and `db/app.db` (a real file, not `:memory:`).
struct Fx {
    _tmp: TempDir,
    root: PathBuf,
    dir: PathBuf,
    db: PathBuf,
}

impl Fx {
    /// An empty migrations directory and no database file yet.
    fn empty() -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        // Canonical, because the host reports canonical script paths in messages.
        let root = fs::canonicalize(tmp.path()).unwrap();
        let dir = root.join("migrations");
        fs::create_dir(&dir).unwrap();
        fs::create_dir(root.join("db")).unwrap();
        let db = root.join("db").join("app.db");
        Fx { _tmp: tmp, root, dir, db }
    }

    /// A → B → C, all reversible, and a database holding the application's own data
    /// (so "unchanged" covers data that athanor never wrote).
    fn chain() -> Fx {
        let fx = Fx::empty();
        fx.write(FA, &script(A, "", UP_A, Some("DROP TABLE t1;")));
        fx.write(FB, &script(B, A, UP_B, Some("DROP TABLE t2;")));
        fx.write(FC, &script(C, B, UP_C, Some("DROP TABLE t3;")));
        fx.seed();
        fx
    }

    /// [`Fx::chain`] upgraded to `target`, so the version and history tables exist.
    fn chain_at(target: &str) -> Fx {
        let fx = Fx::chain();
        fx.upgrade(target).unwrap();
        fx
    }

    fn seed(&self) {
        let c = Connection::open(&self.db).unwrap();
        c.execute_batch("CREATE TABLE app_data (x TEXT); INSERT INTO app_data VALUES ('keep me');").unwrap();
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.dir.join(name), text).unwrap();
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn dir_s(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    fn db_s(&self) -> String {
        self.db.to_string_lossy().into_owned()
    }

    fn load(&self) -> athanor::Result<RevisionMap> {
        load_map(&NativeHost, &self.dir_s())
    }

    /// The caller's connection, with a short busy timeout so LOCKED comes quickly.
    fn conn(&self) -> Connection {
        let c = Connection::open(&self.db).unwrap();
        c.busy_timeout(Duration::from_millis(100)).unwrap();
        c
    }

    fn engine<T>(&self, mode: TransactionMode, f: impl FnOnce(&Engine) -> athanor::Result<T>) -> athanor::Result<T> {
        let map = self.load()?;
        let conn = self.conn();
        let engine = Engine::new(&conn, &map, Options { version_table: "alembic_version".into(), transaction: mode });
        f(&engine)
    }

    fn upgrade(&self, target: &str) -> athanor::Result<Report> {
        self.upgrade_in(TransactionMode::All, target)
    }

    fn upgrade_in(&self, mode: TransactionMode, target: &str) -> athanor::Result<Report> {
        self.engine(mode, |e| e.upgrade(target, &mut |_: &Event| {}))
    }

    fn downgrade(&self, target: &str) -> athanor::Result<Report> {
        self.downgrade_in(TransactionMode::All, target)
    }

    fn downgrade_in(&self, mode: TransactionMode, target: &str) -> athanor::Result<Report> {
        self.engine(mode, |e| e.downgrade(target, &mut |_: &Event| {}))
    }

    fn stamp(&self, targets: &[&str], purge: bool) -> athanor::Result<Report> {
        let targets: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
        self.engine(TransactionMode::All, |e| e.stamp(&targets, purge))
    }

    fn rows(&self) -> Vec<String> {
        let c = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut st = c.prepare("SELECT version_num FROM alembic_version ORDER BY rowid").unwrap();
        let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
    }

    fn tables(&self) -> Vec<String> {
        let c = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut st = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
        let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
    }

    /// The revisions the history table records, in order.
    fn history_revisions(&self) -> Vec<String> {
        let c = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut st = c.prepare("SELECT revision FROM athanor_history ORDER BY revision").unwrap();
        let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
    }

    /// `athanor --dir DIR --db DB ARGS...`
    fn cli(&self, args: &[&str]) -> Output {
        let mut argv: Vec<String> = vec!["--dir".into(), self.dir_s(), "--db".into(), self.db_s()];
        argv.extend(args.iter().map(|s| s.to_string()));
        cli::run(&argv, &NativeHost)
    }

    fn snap(&self) -> Snap {
        let parent = self.db.parent().unwrap();
        let mut files: Vec<String> =
            fs::read_dir(parent).map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
        files.sort();
        let exists = self.db.exists();
        Snap { files, dump: exists.then(|| dump(&self.db)), bytes: exists.then(|| fs::read(&self.db).unwrap()) }
    }

    #[track_caller]
    fn assert_unchanged(&self, before: &Snap) {
        let after = self.snap();
        assert_eq!(after.files, before.files, "files beside the database changed");
        assert_eq!(after.dump, before.dump, "database contents changed");
        assert!(after.bytes == before.bytes, "database file bytes changed");
    }
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(r: athanor::Result<T>, code: &str, message: &str) {
    let e = r.expect_err("expected an error");
    assert_eq!((e.code(), e.to_string()), (code, message.to_string()));
}

/// The CLI contract: nothing on stdout, exactly one stderr line `FAILED [CODE]: message`,
/// exit status 2 for USAGE and 1 otherwise.
#[track_caller]
fn assert_cli_fails(out: &Output, code: &str, message: &str) {
    assert_cli_fails_after(out, "", code, message);
}

/// As [`assert_cli_fails`], after the `INFO` progress lines of steps that started.
#[track_caller]
fn assert_cli_fails_after(out: &Output, progress: &str, code: &str, message: &str) {
    assert!(!message.contains('\n'), "expected message must be one line");
    assert_eq!(out.stderr, format!("{progress}FAILED [{code}]: {message}\n"));
    assert_eq!(out.stdout, "");
    assert_eq!(out.status, if code == "USAGE" { 2 } else { 1 });
}

/// A load-time error: the library and every CLI command (read-only ones included,
/// Alembic note 12) fail the same way, and the database is untouched.
#[track_caller]
fn assert_load_error(fx: &Fx, code: &str, message: &str) {
    let before = fx.snap();
    assert_err(fx.load(), code, message);
    assert_err(fx.upgrade("heads"), code, message);
    for args in [&["upgrade", "heads"][..], &["downgrade", "base"], &["stamp", "heads"], &["current"], &["heads"], &["history"]] {
        assert_cli_fails(&fx.cli(args), code, message);
    }
    fx.assert_unchanged(&before);
}

// ---------------------------------------------------------------- PARSE_ERROR

const BAD: &str = "dddd0004_bad.sql";

#[test]
fn parse_error_bad_header_names_file_and_line() {
    let fx = Fx::chain_at(B);
    fx.write(BAD, "-- Revision ID: dd@d0004\n-- Revises: cccc0003\n-- migrate:upgrade\nSELECT 1;\n");
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:1: Character(s) '@' not allowed in revision identifier 'dd@d0004'", fx.path(BAD)));
    // The same check on a later header line reports that line.
    fx.write(BAD, "-- Revision ID: dddd0004\n-- Message: x\n-- Revises: cccc0003, bad+rev\n-- migrate:upgrade\nSELECT 1;\n");
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:3: Character(s) '+' not allowed in revision identifier 'bad+rev'", fx.path(BAD)));
}

#[test]
fn parse_error_missing_revision_id() {
    let fx = Fx::chain_at(B);
    fx.write(BAD, "-- Revises: cccc0003\n-- Message: x\n\n-- migrate:upgrade\nSELECT 1;\n");
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:1: missing '-- Revision ID:' header", fx.path(BAD)));
}

#[test]
fn parse_error_missing_revises() {
    let fx = Fx::chain_at(B);
    fx.write(BAD, "-- Revision ID: dddd0004\n-- Message: x\n\n-- migrate:upgrade\nSELECT 1;\n");
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:1: missing '-- Revises:' header (leave it empty for a base revision)", fx.path(BAD)));
}

#[test]
fn parse_error_sql_before_upgrade_marker() {
    let fx = Fx::chain_at(B);
    fx.write(BAD, "-- Revision ID: dddd0004\n-- Revises: cccc0003\n\nCREATE TABLE oops (x);\n-- migrate:upgrade\nSELECT 1;\n");
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:4: SQL before the '-- migrate:upgrade' marker", fx.path(BAD)));
}

#[test]
fn parse_error_unknown_marker_option() {
    let fx = Fx::chain_at(B);
    fx.write(BAD, &script("dddd0004", C, "SELECT 1;", None).replace("-- migrate:upgrade", "-- migrate:upgrade transaction:maybe"));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:5: unknown section option 'transaction:maybe' (known: transaction:false)", fx.path(BAD)));
    // On the downgrade marker (line 8) too.
    fx.write(BAD, &script("dddd0004", C, "SELECT 1;", Some("SELECT 2;")).replace("-- migrate:downgrade", "-- migrate:downgrade fast"));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:8: unknown section option 'fast' (known: transaction:false)", fx.path(BAD)));
}

#[test]
fn parse_error_unknown_or_repeated_section_marker() {
    let fx = Fx::chain_at(B);
    fx.write(BAD, &script("dddd0004", C, "SELECT 1;\n-- migrate:up\nSELECT 2;", None));
    assert_load_error(
        &fx,
        "PARSE_ERROR",
        &format!("{}:7: unknown section marker '-- migrate:up' (expected '-- migrate:upgrade' or '-- migrate:downgrade')", fx.path(BAD)),
    );
    fx.write(BAD, &script("dddd0004", C, "SELECT 1;\n-- migrate:upgrade\nSELECT 2;", None));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:7: second '-- migrate:upgrade' section", fx.path(BAD)));
}

#[test]
fn parse_error_non_utf8_file() {
    let fx = Fx::chain_at(B);
    let mut bytes = b"-- Revision ID: dddd0004\n-- Revises: cccc0003\n-- Message: caf".to_vec();
    let at = bytes.len();
    bytes.extend_from_slice(b"\xe9 au lait\n\n-- migrate:upgrade\nSELECT 1;\n");
    fs::write(fx.dir.join(BAD), &bytes).unwrap();
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:3: not valid UTF-8 (byte {at})", fx.path(BAD)));
}

#[test]
fn parse_error_nul_byte_names_its_line() {
    let fx = Fx::chain_at(B);
    // SQLite stops reading at a NUL: the DROP would be skipped in silence.
    fx.write(BAD, &script("dddd0004", C, "CREATE TABLE a (x);\0DROP TABLE t1;", None));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:6: NUL byte in the file (SQLite would skip what follows it)", fx.path(BAD)));
    fx.write(BAD, &script_h("dddd0004", C, "-- Note: \0", "SELECT 1;", None));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:4: NUL byte in the file (SQLite would skip what follows it)", fx.path(BAD)));
}

#[test]
fn parse_error_repeated_header() {
    let fx = Fx::chain_at(B);
    fx.write(BAD, &script_h("dddd0004", C, "-- Revises: aaaa0001", "SELECT 1;", None));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:4: repeated '-- Revises:' header (first on line 2)", fx.path(BAD)));
    fx.write(BAD, &script_h("dddd0004", C, "-- message: again", "SELECT 1;", None));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:4: repeated '-- Message:' header (first on line 3)", fx.path(BAD)));
}

#[test]
fn parse_error_revision_id_outside_the_safe_set() {
    let fx = Fx::chain_at(B);
    for (id, shown) in [("..", ".."), ("x/y", "x/y"), ("a\u{7}b", "a\\u{7}b"), ("caf\u{e9}", "caf\u{e9}")] {
        fx.write(BAD, &script(id, C, "SELECT 1;", None));
        assert_load_error(
            &fx,
            "PARSE_ERROR",
            &format!("{}:1: revision identifier '{shown}' may hold only ASCII letters, digits and '_'", fx.path(BAD)),
        );
    }
    fx.write(BAD, &script_h("dddd0004", C, "-- Depends On: ../x", "SELECT 1;", None));
    assert_load_error(&fx, "PARSE_ERROR", &format!("{}:4: dependency '../x' may hold only ASCII letters, digits and '_'", fx.path(BAD)));
}

/// Statements that would end or begin the run's transaction: before, `ROLLBACK;` in B
/// dropped A's table yet the version table said B, and every rerun found nothing to do.
#[test]
fn parse_error_transaction_control_in_a_transactional_section() {
    for (up, line, what) in [
        ("ROLLBACK;\nCREATE TABLE b (x);", 6, "ROLLBACK"),
        ("CREATE TABLE b (x);\n  commit transaction;", 7, "COMMIT"),
        ("END;", 6, "END"),
        ("SELECT 1; BEGIN IMMEDIATE;", 6, "BEGIN"),
    ] {
        let fx = Fx::chain();
        fx.write(BAD, &script("dddd0004", C, up, None));
        let message = format!(
            "{}:{line}: {what} ends or begins the migration's transaction; remove it, or run the section with '-- migrate:upgrade transaction:false' / '-- migrate:downgrade transaction:false'",
            fx.path(BAD)
        );
        assert_load_error(&fx, "PARSE_ERROR", &message);
        assert_eq!(fx.tables(), ["app_data"]);
    }
    // In the downgrade section too.
    let fx = Fx::chain();
    fx.write(BAD, &script("dddd0004", C, "SELECT 1;", Some("DROP TABLE x;\nCOMMIT;")));
    assert_err(fx.load(), "PARSE_ERROR", &format!("{}:10: COMMIT ends or begins the migration's transaction; remove it, or run the section with '-- migrate:upgrade transaction:false' / '-- migrate:downgrade transaction:false'", fx.path(BAD)));
    // Savepoints keep the transaction open, and a transaction:false section manages its own.
    fx.write(BAD, &script("dddd0004", C, "SAVEPOINT s;\nCREATE TABLE d (x);\nROLLBACK TO s;\nRELEASE s;", None));
    fx.write("eeee0005_outside.sql", &outside_script("eeee0005", "dddd0004", "BEGIN;\nCREATE TABLE e (x);\nCOMMIT;"));
    fx.upgrade("heads").unwrap();
    assert_eq!(fx.rows(), ["eeee0005"]);
    assert_eq!(fx.tables(), ["alembic_version", "app_data", "athanor_history", "e", "t1", "t2", "t3"]);
}

// ------------------------------------------------------- graph errors at load

#[test]
fn duplicate_revision_names_both_files() {
    let fx = Fx::chain_at(B);
    fx.write("zzzz_copy.sql", &script(A, "", "SELECT 1;", None));
    assert_load_error(
        &fx,
        "DUPLICATE_REVISION",
        &format!("Revision aaaa0001 is present more than once ({}, {})", fx.path(FA), fx.path("zzzz_copy.sql")),
    );
}

#[test]
fn unknown_parent_in_revises_or_depends_on() {
    let fx = Fx::chain_at(B);
    fx.write("dddd0004_d.sql", &script("dddd0004", "eeee9999", "SELECT 1;", None));
    assert_load_error(&fx, "UNKNOWN_PARENT", "Revision eeee9999 referenced from dddd0004 is not present");
    fx.write("dddd0004_d.sql", &script_h("dddd0004", C, "-- Depends On: ffff9999", "SELECT 1;", None));
    assert_load_error(&fx, "UNKNOWN_PARENT", "Revision ffff9999 referenced from dddd0004 is not present");
}

#[test]
fn duplicate_branch_label() {
    let fx = Fx::chain_at(B);
    fx.write("dddd0004_d.sql", &script_h("dddd0004", C, "-- Branch Labels: shop", "SELECT 1;", None));
    fx.write("eeee0005_e.sql", &script_h("eeee0005", "dddd0004", "-- Branch Labels: shop", "SELECT 1;", None));
    assert_load_error(&fx, "DUPLICATE_LABEL", "Branch name 'shop' in revision eeee0005 already used by revision dddd0004");
    // A label may not take a revision id either.
    fs::remove_file(fx.dir.join("eeee0005_e.sql")).unwrap();
    fx.write("dddd0004_d.sql", &script_h("dddd0004", C, "-- Branch Labels: aaaa0001", "SELECT 1;", None));
    assert_load_error(&fx, "DUPLICATE_LABEL", "Branch name 'aaaa0001' in revision dddd0004 already used by revision aaaa0001");
}

#[test]
fn cycles_self_loops_and_dependency_cycles() {
    let fx = Fx::chain_at(B);
    // A loop beside a healthy chain: only the revisions on the loop are named.
    fx.write("xxxx0005_x.sql", &script("xxxx0005", "yyyy0006", "SELECT 1;", None));
    fx.write("yyyy0006_y.sql", &script("yyyy0006", "xxxx0005", "SELECT 1;", None));
    assert_load_error(&fx, "CYCLE", "Cycle is detected in revisions (xxxx0005, yyyy0006)");
    fs::remove_file(fx.dir.join("xxxx0005_x.sql")).unwrap();
    fs::remove_file(fx.dir.join("yyyy0006_y.sql")).unwrap();

    fx.write("dddd0004_d.sql", &script("dddd0004", "dddd0004", "SELECT 1;", None));
    assert_load_error(&fx, "CYCLE", "Self-loop is detected in revisions (dddd0004)");
    fx.write("dddd0004_d.sql", &script_h("dddd0004", C, "-- Depends On: dddd0004", "SELECT 1;", None));
    assert_load_error(&fx, "CYCLE", "Dependency self-loop is detected in revisions (dddd0004)");

    // d depends on its own child e: no real head is left, Alembic names every revision.
    fx.write("dddd0004_d.sql", &script_h("dddd0004", C, "-- Depends On: eeee0005", "SELECT 1;", None));
    fx.write("eeee0005_e.sql", &script("eeee0005", "dddd0004", "SELECT 1;", None));
    assert_load_error(&fx, "CYCLE", "Dependency cycle is detected in revisions (aaaa0001, bbbb0002, cccc0003, dddd0004, eeee0005)");
}

// ------------------------------------------------------------ target errors

/// The library call and each CLI command fail with `code`/`message`; nothing changes.
#[track_caller]
fn assert_target_error(fx: &Fx, lib: &[athanor::Result<Report>], cli_cmds: &[&[&str]], code: &str, message: &str, before: &Snap) {
    for r in lib {
        assert_err(r.clone(), code, message);
    }
    for args in cli_cmds {
        assert_cli_fails(&fx.cli(args), code, message);
    }
    fx.assert_unchanged(before);
}

#[test]
fn unknown_revision() {
    let fx = Fx::chain_at(B);
    let before = fx.snap();
    let msg = "Can't locate revision identified by 'ffff0000': No such revision or branch 'ffff0000'";
    let lib = [fx.upgrade("ffff0000"), fx.downgrade("ffff0000"), fx.stamp(&["ffff0000"], false)];
    let cmds: &[&[&str]] = &[&["upgrade", "ffff0000"], &["downgrade", "ffff0000"], &["stamp", "ffff0000"], &["show", "ffff0000"]];
    assert_target_error(&fx, &lib, cmds, "UNKNOWN_REVISION", msg, &before);
    // Fewer than four characters: Alembic's hint about partial ids.
    let msg = "Can't locate revision identified by 'ff': No such revision or branch 'ff'; please ensure at least four characters are present for partial revision identifier matches";
    assert_target_error(&fx, &[fx.upgrade("ff")], &[&["upgrade", "ff"]], "UNKNOWN_REVISION", msg, &before);
    // A branch that does not exist.
    let msg = "Can't locate revision identified by 'nobranch': No such revision or branch 'nobranch'";
    assert_target_error(&fx, &[fx.upgrade("nobranch@head")], &[&["upgrade", "nobranch@head"]], "UNKNOWN_REVISION", msg, &before);
}

#[test]
fn ambiguous_revision_prefix() {
    let fx = Fx::empty();
    fx.write("abcd1111_one.sql", &script("abcd1111", "", "CREATE TABLE t1 (x);", Some("DROP TABLE t1;")));
    fx.write("abcd2222_two.sql", &script("abcd2222", "abcd1111", "CREATE TABLE t2 (x);", Some("DROP TABLE t2;")));
    fx.seed();
    fx.upgrade("abcd1111").unwrap();
    let before = fx.snap();
    let msg = "Can't locate revision identified by 'abcd': Multiple revisions start with 'abcd': 'abcd1111', 'abcd2222'...";
    let lib = [fx.upgrade("abcd"), fx.downgrade("abcd"), fx.stamp(&["abcd"], false)];
    let cmds: &[&[&str]] = &[&["upgrade", "abcd"], &["downgrade", "abcd"], &["stamp", "abcd"], &["show", "abcd"]];
    assert_target_error(&fx, &lib, cmds, "AMBIGUOUS_REVISION", msg, &before);
}

#[test]
fn multiple_heads_for_head() {
    let fx = Fx::empty();
    fx.write(FA, &script(A, "", UP_A, Some("DROP TABLE t1;")));
    fx.write(FB, &script(B, A, UP_B, Some("DROP TABLE t2;")));
    fx.write(FC, &script(C, A, UP_C, Some("DROP TABLE t3;")));
    fx.seed();
    fx.upgrade(A).unwrap();
    let before = fx.snap();
    let msg = "Multiple head revisions are present for given argument 'head'; please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads";
    assert_target_error(&fx, &[fx.upgrade("head")], &[&["upgrade", "head"]], "MULTIPLE_HEADS", msg, &before);
    // `stamp` words it as Alembic's `_stamp_revs` does.
    let msg = "Multiple heads are present; please specify a single target revision";
    assert_target_error(&fx, &[fx.stamp(&["head"], false)], &[&["stamp", "head"]], "MULTIPLE_HEADS", msg, &before);
}

#[test]
fn invalid_target_relative_and_direction() {
    // Fresh database: nothing below, nothing to go back to.
    let fx = Fx::chain();
    let before = fx.snap();
    let m = "Relative revision -1 didn't produce 1 migrations";
    assert_target_error(&fx, &[fx.upgrade("-1")], &[&["upgrade", "-1"]], "INVALID_TARGET", m, &before);
    let m = "Relative revision +1 didn't produce 1 migrations";
    assert_target_error(&fx, &[fx.downgrade("+1")], &[&["downgrade", "+1"]], "INVALID_TARGET", m, &before);
    let m = "Relative revision -1 didn't produce 1 migrations";
    assert_target_error(&fx, &[fx.downgrade("-1")], &[&["downgrade", "-1"]], "INVALID_TARGET", m, &before);

    let fx = Fx::chain_at(B);
    let before = fx.snap();
    // Walking past base and past the head.
    let m = "Relative revision -3 didn't produce 3 migrations";
    assert_target_error(&fx, &[fx.downgrade("-3")], &[&["downgrade", "-3"]], "INVALID_TARGET", m, &before);
    let m = "Relative revision +2 didn't produce 2 migrations";
    assert_target_error(&fx, &[fx.upgrade("+2")], &[&["upgrade", "+2"]], "INVALID_TARGET", m, &before);
    let m = "Relative revision -1 didn't produce 1 migrations";
    assert_target_error(&fx, &[fx.upgrade("-1")], &[&["upgrade", "-1"]], "INVALID_TARGET", m, &before);
    let m = "Relative revision +1 didn't produce 1 migrations";
    assert_target_error(&fx, &[fx.downgrade("+1")], &[&["downgrade", "+1"]], "INVALID_TARGET", m, &before);
    // Downgrading to a descendant.
    let m = "Destination cccc0003 is not a valid downgrade target from current head(s)";
    assert_target_error(&fx, &[fx.downgrade(C)], &[&["downgrade", C]], "INVALID_TARGET", m, &before);
}

// -------------------------------------------------------------- IRREVERSIBLE

#[test]
fn irreversible_fails_before_any_downgrade_runs() {
    let fx = Fx::empty();
    fx.write(FA, &script(A, "", UP_A, Some("DROP TABLE t1;")));
    fx.write(FB, &script(B, A, UP_B, None));
    fx.write(FC, &script(C, B, UP_C, Some("DROP TABLE t3;")));
    fx.seed();
    fx.upgrade("heads").unwrap();
    let before = fx.snap();
    let msg = format!("Revision bbbb0002 ({}) has no downgrade section; it cannot be downgraded", fx.path(FB));
    // C's downgrade comes first in the plan; it must not run in either mode, and the
    // per-migration mode must not commit it.
    for mode in [TransactionMode::All, TransactionMode::PerMigration] {
        assert_err(fx.downgrade_in(mode, "base"), "IRREVERSIBLE", &msg);
        assert_err(fx.downgrade_in(mode, A), "IRREVERSIBLE", &msg);
    }
    assert_cli_fails(&fx.cli(&["downgrade", "base"]), "IRREVERSIBLE", &msg);
    assert_cli_fails(&fx.cli(&["--transaction-per-migration", "downgrade", A]), "IRREVERSIBLE", &msg);
    fx.assert_unchanged(&before);
    assert!(fx.tables().contains(&"t3".to_string()));
}

// ------------------------------------------------------------ DATABASE_AHEAD

#[test]
fn database_ahead_of_the_migrations() {
    let fx = Fx::chain_at("heads");
    // The code went back: C's file is gone but the database is at C.
    fs::remove_file(fx.dir.join(FC)).unwrap();
    let before = fx.snap();
    let msg = "Can't locate revision identified by 'cccc0003' (the database is at a revision these migrations do not contain: it is ahead of this code, or belongs to other migrations)";
    let lib = [fx.upgrade("heads"), fx.downgrade("base"), fx.downgrade("-1"), fx.stamp(&["heads"], false)];
    let cmds: &[&[&str]] = &[&["upgrade", "heads"], &["downgrade", "base"], &["downgrade", "-1"], &["stamp", "heads"], &["current"]];
    assert_target_error(&fx, &lib, cmds, "DATABASE_AHEAD", msg, &before);
    // The way out: stamp --purge ignores the rows it replaces.
    let out = fx.cli(&["stamp", "--purge", B]);
    assert_eq!((out.status, out.stderr.as_str()), (0, "INFO  [athanor] Running stamp_revision  -> bbbb0002\n"));
    assert_eq!(fx.rows(), [B]);
}

#[test]
fn database_ahead_on_show_and_history_current() {
    // `show current` and `history -r current:` read the version table like `current`
    // does, so they should say the same thing rather than treat the row as a mistyped
    // argument (UNKNOWN_REVISION "No such revision or branch").
    let fx = Fx::chain_at("heads");
    fs::remove_file(fx.dir.join(FC)).unwrap();
    let before = fx.snap();
    let msg = "Can't locate revision identified by 'cccc0003' (the database is at a revision these migrations do not contain: it is ahead of this code, or belongs to other migrations)";
    assert_cli_fails(&fx.cli(&["show", "current"]), "DATABASE_AHEAD", msg);
    assert_cli_fails(&fx.cli(&["history", "-r", "current:"]), "DATABASE_AHEAD", msg);
    fx.assert_unchanged(&before);
}

// --------------------------------------------------------- CHECKSUM_MISMATCH

fn history_checksum(fx: &Fx, rev: &str) -> String {
    let c = Connection::open_with_flags(&fx.db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row("SELECT checksum FROM athanor_history WHERE revision = ?1", [rev], |r| r.get(0)).unwrap()
}

#[test]
fn checksum_mismatch_refuses_an_edited_applied_upgrade() {
    let fx = Fx::chain_at(B);
    let recorded = history_checksum(&fx, A);
    assert_eq!(recorded, checksum(A, UP_A), "the recorded checksum follows the documented algorithm");
    let edited = UP_A.replace("v TEXT", "v TEXT, extra TEXT");
    fx.write(FA, &script(A, "", &edited, Some("DROP TABLE t1;")));
    let before = fx.snap();
    let msg = format!(
        "Revision aaaa0001 ({}) was modified after it was applied: recorded checksum {recorded}, file now {}; restore the file, or accept the change with `stamp --purge` to the current revision(s)",
        fx.path(FA),
        checksum(A, &edited)
    );
    // Refused before C runs, and for downgrades too (stamps run nothing: see below).
    let lib = [fx.upgrade("heads"), fx.downgrade("base")];
    let cmds: &[&[&str]] = &[&["upgrade", "heads"], &["upgrade", "+1"], &["downgrade", "base"]];
    assert_target_error(&fx, &lib, cmds, "CHECKSUM_MISMATCH", &msg, &before);
    assert_eq!(fx.rows(), vec![B.to_string()]);
}

#[test]
fn stamp_purge_accepts_an_edited_applied_upgrade() {
    let fx = Fx::chain_at(B);
    let edited = UP_A.replace("v TEXT", "v TEXT, extra TEXT");
    fx.write(FA, &script(A, "", &edited, Some("DROP TABLE t1;")));
    assert_eq!(fx.upgrade("heads").unwrap_err().code(), "CHECKSUM_MISMATCH");
    // The way out the message names: stamp --purge to where the database is.
    let out = fx.cli(&["stamp", "--purge", B]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(fx.rows(), vec![B.to_string()]);
    let report = fx.upgrade("heads").unwrap();
    assert_eq!(report.plan.steps.len(), 1);
    assert_eq!(fx.rows(), vec![C.to_string()]);
    // C's checksum is recorded anew; A's old one is gone, so it is not checked again.
    assert_eq!(history_checksum(&fx, C), checksum(C, UP_C));
}

#[test]
fn checksum_ignores_downgrade_edits_and_whitespace_or_crlf_at_the_ends() {
    let fx = Fx::chain_at(B);
    // Same upgrade SQL framed by blank lines and spaces, CRLF throughout, new downgrade.
    let framed = format!("\n  \n{UP_A}   \n\n");
    fx.write(FA, &script(A, "", &framed, Some("DROP TABLE IF EXISTS t1;")).replace('\n', "\r\n"));
    let report = fx.upgrade("heads").unwrap();
    assert_eq!(report.plan.steps.len(), 1);
    assert_eq!(fx.rows(), vec![C.to_string()]);
    // Through the CLI as well: B edited the same way, then a downgrade verifies A and B.
    fx.write(FB, &format!("{}\n\n", script(B, A, &format!("\t{UP_B}\t"), Some("DROP TABLE t2; -- edited")).replace('\n', "\r\n")));
    let out = fx.cli(&["downgrade", "-1"]);
    assert_eq!((out.status, out.stderr.as_str()), (0, "INFO  [athanor] Running downgrade cccc0003 -> bbbb0002, step cccc0003\n"));
    assert_eq!(fx.rows(), vec![B.to_string()]);
}

// ---------------------------------------------------------- MIGRATION_FAILED

/// C's upgrade: two good statements, then a duplicate key on line 9 of the file.
const UP_C_FAILS: &str = "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\nINSERT INTO t3 VALUES (1);\n\nINSERT INTO t3 VALUES (1);";

fn failing_chain() -> Fx {
    let fx = Fx::chain();
    fx.write(FC, &script(C, B, UP_C_FAILS, Some("DROP TABLE t3;")));
    fx
}

fn failure_message(fx: &Fx) -> String {
    format!("Migration cccc0003 failed at {}:9: UNIQUE constraint failed: t3.id (statement: INSERT INTO t3 VALUES (1);)", fx.path(FC))
}

const PROGRESS_ABC: &str = "INFO  [athanor] Running upgrade  -> aaaa0001, step aaaa0001\n\
INFO  [athanor] Running upgrade aaaa0001 -> bbbb0002, step bbbb0002\n\
INFO  [athanor] Running upgrade bbbb0002 -> cccc0003, step cccc0003\n";

#[test]
fn migration_failed_rolls_back_the_whole_run_by_default() {
    let fx = failing_chain();
    let before = fx.snap();
    let err = fx.upgrade("heads").unwrap_err();
    assert_eq!((err.code(), err.to_string()), ("MIGRATION_FAILED", failure_message(&fx)));
    let athanor::Error::MigrationFailed(f) = &err else { panic!("{err:?}") };
    let expected = StatementFailure {
        revision: C.into(),
        file: fx.path(FC),
        line: 9,
        statement: "INSERT INTO t3 VALUES (1);".into(),
        sqlite_message: "UNIQUE constraint failed: t3.id".into(),
        sqlite_code: Some(1555), // SQLITE_CONSTRAINT_PRIMARYKEY
    };
    assert_eq!(**f, expected);
    fx.assert_unchanged(&before);

    let out = fx.cli(&["upgrade", "heads"]);
    assert_cli_fails_after(&out, PROGRESS_ABC, "MIGRATION_FAILED", &failure_message(&fx));
    fx.assert_unchanged(&before);
}

#[test]
fn migration_failed_per_migration_keeps_the_earlier_migrations() {
    let check = |fx: &Fx| {
        // A and B committed, C's good statements rolled back with its failure.
        assert_eq!(fx.rows(), vec![B.to_string()]);
        assert_eq!(fx.tables(), ["alembic_version", "app_data", "athanor_history", "t1", "t2"]);
        assert_eq!(fx.history_revisions(), [A, B]);
        let out = fx.cli(&["current"]);
        assert_eq!((out.status, out.stdout.as_str()), (0, "bbbb0002\n"));
    };

    let fx = failing_chain();
    assert_err(fx.upgrade_in(TransactionMode::PerMigration, "heads"), "MIGRATION_FAILED", &failure_message(&fx));
    check(&fx);

    let fx = failing_chain();
    let out = fx.cli(&["--transaction-per-migration", "upgrade", "heads"]);
    assert_cli_fails_after(&out, PROGRESS_ABC, "MIGRATION_FAILED", &failure_message(&fx));
    check(&fx);
}

#[test]
fn migration_failed_shows_the_statement_not_the_comment_above_it() {
    // The line is the statement's first token (9); the statement shown must be that
    // statement, not the comment above it flattened into one line with it (which reads
    // as if the whole statement were commented out).
    let fx = Fx::chain();
    fx.write(
        FC,
        &script(
            C,
            B,
            "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\nINSERT INTO t3 VALUES (1);\n-- a second row with the same key\nINSERT INTO t3 VALUES (1);",
            None,
        ),
    );
    let before = fx.snap();
    let msg = format!("Migration cccc0003 failed at {}:9: UNIQUE constraint failed: t3.id (statement: INSERT INTO t3 VALUES (1);)", fx.path(FC));
    assert_err(fx.upgrade("heads"), "MIGRATION_FAILED", &msg);
    assert_cli_fails_after(&fx.cli(&["upgrade", "heads"]), PROGRESS_ABC, "MIGRATION_FAILED", &msg);
    fx.assert_unchanged(&before);
}

#[test]
fn migration_failed_on_a_multiline_statement_is_one_stderr_line() {
    // SQLite rejects the statement when preparing it; the message stays SQLite's own
    // and the CLI's error stays on one line.
    let fx = Fx::chain();
    fx.write(FC, &script(C, B, "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\nINSERT INTO t3 (id, missing)\n    VALUES (1, 2);", None));
    let before = fx.snap();
    let msg = format!(
        "Migration cccc0003 failed at {}:7: table t3 has no column named missing (statement: INSERT INTO t3 (id, missing) VALUES (1, 2);)",
        fx.path(FC)
    );
    assert_err(fx.upgrade("heads"), "MIGRATION_FAILED", &msg);
    assert_cli_fails_after(&fx.cli(&["upgrade", "heads"]), PROGRESS_ABC, "MIGRATION_FAILED", &msg);
    // A syntax error and an unknown table, both reported by SQLite with an offset.
    fx.write(FC, &script(C, B, "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\nINSERT INTO t3\n    VALUS (1);", None));
    let msg = format!("Migration cccc0003 failed at {}:7: near \"VALUS\": syntax error (statement: INSERT INTO t3 VALUS (1);)", fx.path(FC));
    assert_err(fx.upgrade("heads"), "MIGRATION_FAILED", &msg);
    assert_cli_fails_after(&fx.cli(&["upgrade", "heads"]), PROGRESS_ABC, "MIGRATION_FAILED", &msg);
    fx.write(FC, &script(C, B, "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\nINSERT INTO nope\n    VALUES (1);", None));
    let msg = format!("Migration cccc0003 failed at {}:7: no such table: nope (statement: INSERT INTO nope VALUES (1);)", fx.path(FC));
    assert_err(fx.upgrade("heads"), "MIGRATION_FAILED", &msg);
    assert_cli_fails_after(&fx.cli(&["upgrade", "heads"]), PROGRESS_ABC, "MIGRATION_FAILED", &msg);
    fx.assert_unchanged(&before);
}

// -------------------------------------------------------------------- LOCKED

#[test]
fn locked_while_another_connection_holds_the_write_lock() {
    let fx = Fx::chain_at(A);
    let before = fx.snap();
    let holder = Connection::open(&fx.db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let msg = "database is locked: another connection holds its write lock (is another migration running?)";

    let started = Instant::now();
    assert_err(fx.upgrade("heads"), "LOCKED", msg);
    assert!(started.elapsed() >= Duration::from_millis(100), "gave up before the busy timeout");
    assert_err(fx.downgrade("base"), "LOCKED", msg);
    assert_err(fx.stamp(&["heads"], false), "LOCKED", msg);
    // The CLI waits its own (longer) busy timeout, then reports the same.
    assert_cli_fails(&fx.cli(&["upgrade", "heads"]), "LOCKED", msg);

    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    fx.assert_unchanged(&before);
}

/// `--busy-timeout MS`: 0 gives up at once while another connection holds the write
/// lock (writing nothing); a long one waits until the lock goes, then migrates.
#[test]
fn busy_timeout_sets_how_long_the_cli_waits_for_a_lock() {
    let fx = Fx::chain_at(A);
    let before = fx.snap();
    let hold = |ms: u64| {
        let holder = Connection::open(&fx.db).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            holder.execute_batch("ROLLBACK").unwrap();
        })
    };
    let held = hold(1500);
    let msg = "database is locked: another connection holds its write lock (is another migration running?)";
    assert_cli_fails(&fx.cli(&["--busy-timeout", "0", "upgrade", "heads"]), "LOCKED", msg);
    held.join().unwrap();
    fx.assert_unchanged(&before);
    let held = hold(300);
    let out = fx.cli(&["--busy-timeout=60000", "upgrade", "heads"]);
    held.join().unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(fx.rows(), [C]);
    assert_cli_fails(&fx.cli(&["--busy-timeout", "soon", "current"]), "USAGE", "--busy-timeout takes milliseconds (0 to 4294967295), not 'soon'");
}

// ------------------------------------------------------------- VERSION_TABLE

#[test]
fn version_table_rows_that_overlap() {
    // Alembic note 4: `stamp A B` writes both rows unchecked; the next upgrade refuses.
    let fx = Fx::chain();
    fx.stamp(&[A, B], false).unwrap();
    assert_eq!(fx.rows(), [A, B]);
    let before = fx.snap();
    let msg = "Requested revision bbbb0002 overlaps with other requested revisions aaaa0001";
    assert_target_error(&fx, &[fx.upgrade("heads")], &[&["upgrade", "heads"]], "VERSION_TABLE", msg, &before);
}

#[test]
fn version_table_update_must_touch_exactly_one_row() {
    // A hand-made version table without Alembic's primary key, holding A twice: the
    // UPDATE for B would move two rows, so the run stops and rolls back.
    let fx = Fx::chain();
    fx.conn()
        .execute_batch(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);
             INSERT INTO alembic_version VALUES ('aaaa0001'), ('aaaa0001');
             CREATE TABLE t1 (id INTEGER PRIMARY KEY, v TEXT);",
        )
        .unwrap();
    let before = fx.snap();
    // The runner writes the run's net change (A -> C), checked like each of Alembic's.
    let msg = "Online migration expected to match one row when updating 'aaaa0001' to 'cccc0003' in 'alembic_version'; 2 found";
    assert_err(fx.upgrade("heads"), "VERSION_TABLE", msg);
    // When the version-table writes happen within the transaction is the runner's
    // business, so how many steps were announced before the failure is not checked.
    let out = fx.cli(&["upgrade", "heads"]);
    let (progress, last) = out.stderr.trim_end().rsplit_once('\n').unwrap_or(("", out.stderr.trim_end()));
    assert!(progress.lines().all(|l| l.starts_with("INFO  [athanor] Running upgrade ")), "{}", out.stderr);
    assert_eq!((out.status, out.stdout.as_str(), last), (1, "", format!("FAILED [VERSION_TABLE]: {msg}").as_str()));
    fx.assert_unchanged(&before);
}

#[test]
fn version_table_changed_between_per_migration_transactions() {
    // Stands in for another writer between two per-migration transactions: a trigger
    // adds a row when A's row is written. The next transaction re-reads the table and
    // plans again from it; here that row names no known revision, so nothing more runs.
    let setup = || {
        let fx = Fx::chain();
        fx.conn()
            .execute_batch(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
                 CREATE TRIGGER intruder AFTER INSERT ON alembic_version WHEN NEW.version_num = 'aaaa0001'
                 BEGIN INSERT INTO alembic_version VALUES ('zzzz0000'); END;",
            )
            .unwrap();
        fx
    };
    let msg = "Can't locate revision identified by 'zzzz0000' (the database is at a revision these migrations do not contain: it is ahead of this code, or belongs to other migrations)";
    let check = |fx: &Fx| {
        // A was committed with the intruder's row; B never ran.
        assert_eq!(fx.rows(), [A, "zzzz0000"]);
        assert_eq!(fx.tables(), ["alembic_version", "app_data", "athanor_history", "t1"]);
    };
    let fx = setup();
    assert_err(fx.upgrade_in(TransactionMode::PerMigration, "heads"), "DATABASE_AHEAD", msg);
    check(&fx);
    let fx = setup();
    let out = fx.cli(&["--transaction-per-migration", "upgrade", "heads"]);
    let progress = "INFO  [athanor] Running upgrade  -> aaaa0001, step aaaa0001\n";
    assert_cli_fails_after(&out, progress, "DATABASE_AHEAD", msg);
    check(&fx);
}

#[test]
fn per_migration_runs_go_on_from_where_another_migrator_left_the_table() {
    // The trigger plays a second migrator that applied B (its row and table) right
    // after our A: the next transaction sees B and goes on with C only.
    let fx = Fx::chain();
    fx.conn()
        .execute_batch(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
             CREATE TRIGGER other AFTER INSERT ON alembic_version WHEN NEW.version_num = 'aaaa0001'
             BEGIN UPDATE alembic_version SET version_num = 'bbbb0002'; END;",
        )
        .unwrap();
    let report = fx.upgrade_in(TransactionMode::PerMigration, "heads").unwrap();
    let ran: Vec<&str> = report.plan.steps.iter().map(|s| s.to.last().map(String::as_str).unwrap_or("")).collect();
    assert_eq!(ran, [A, C]);
    assert_eq!(fx.rows(), [C]);
}

// --------------------------------------------------------------------- USAGE

const COMMANDS: &str = "init, revision, merge, upgrade, downgrade, current, history, heads, branches, show, stamp, check, bundle, adopt, test, lint";

fn usage_cases() -> Vec<(Vec<&'static str>, String)> {
    vec![
        (vec!["frobnicate"], format!("unknown command 'frobnicate' (commands: {COMMANDS})")),
        (vec![], format!("no command given (commands: {COMMANDS})")),
        (vec!["upgrade", "--bogus"], "unknown option '--bogus'".into()),
        (vec!["upgrade", "-x"], "unknown option '-x'".into()),
        (vec!["upgrade", "aaaa0001:cccc0003"], "Range revision not allowed".into()),
        (vec!["downgrade", "aaaa0001", "--sql"], "downgrade with --sql requires <fromrev>:<torev>".into()),
        (vec!["stamp", "--sql", "--purge", "heads"], "Can't use --purge with --sql mode".into()),
        (vec!["stamp"], "stamp needs a target".into()),
        (vec!["show"], "show needs one revision".into()),
        (vec!["upgrade", "aaaa0001", "bbbb0002"], "upgrade takes one target".into()),
        (vec!["history", "-r", "a:b:c"], "History range requires [start]:[end], [start]:, or :[end]".into()),
        (vec!["upgrade", "--dir"], "--dir needs a value".into()),
        (vec!["revision", "-m", "x", "--rename", "a=b"], "--rename needs --autogenerate".into()),
        (
            vec!["revision", "-m", "x", "--autogenerate", "--rename", "a.b"],
            "--rename 'a.b': expected OLD=NEW (a table) or TABLE.OLD=NEW (a column)".into(),
        ),
        // Each command takes only its own options (history --purge used to exit 0).
        (vec!["history", "--purge"], "history does not take --purge (its options: --verbose, --indicate-current, --rev-range)".into()),
        (vec!["current", "--sql"], "current does not take --sql (its options: --verbose)".into()),
        (vec!["show", "-v", "aaaa0001"], "show does not take --verbose (its options: none but the global ones)".into()),
        (vec!["upgrade", "-m", "x"], "upgrade does not take --message (its options: --sql)".into()),
    ]
}

#[test]
fn usage_errors_exit_2_and_touch_nothing() {
    let fx = Fx::chain_at(A);
    let before = fx.snap();
    for (args, msg) in usage_cases() {
        assert_cli_fails(&fx.cli(&args), "USAGE", &msg);
    }
    // A command that needs a database but was given none.
    let out = cli::run(&["--dir".to_string(), fx.dir_s(), "upgrade".into()], &NativeHost);
    assert_cli_fails(&out, "USAGE", "'upgrade' needs a database: pass --db PATH");
    fx.assert_unchanged(&before);

    // Nor is a database file created for them.
    let fx = Fx::chain();
    fs::remove_file(&fx.db).unwrap();
    for (args, msg) in usage_cases() {
        assert_cli_fails(&fx.cli(&args), "USAGE", &msg);
        assert!(!fx.db.exists(), "{args:?} created the database");
    }
}

// ------------------------------------------------------------------ IO_ERROR

#[test]
fn io_error_missing_migrations_directory() {
    let fx = Fx::chain_at(A);
    let before = fx.snap();
    let missing = fx.root.join("no-such-dir").to_string_lossy().into_owned();
    let msg = format!("migrations directory '{missing}' does not exist (run `athanor init`, or pass --dir)");
    assert_err(load_map(&NativeHost, &missing), "IO_ERROR", &msg);
    for args in [&["upgrade", "heads"][..], &["current"]] {
        let mut argv = vec!["--dir".to_string(), missing.clone(), "--db".into(), fx.db_s()];
        argv.extend(args.iter().map(|s| s.to_string()));
        assert_cli_fails(&cli::run(&argv, &NativeHost), "IO_ERROR", &msg);
    }
    fx.assert_unchanged(&before);
}

#[test]
fn io_error_database_in_a_missing_directory() {
    let fx = Fx::chain();
    let db = fx.root.join("no-such-dir").join("app.db").to_string_lossy().into_owned();
    let argv: Vec<String> = ["--dir", &fx.dir_s(), "--db", &db, "upgrade", "heads"].iter().map(|s| s.to_string()).collect();
    assert_cli_fails(&cli::run(&argv, &NativeHost), "IO_ERROR", &format!("cannot open database '{db}': unable to open database file: {db}"));
    assert!(!fx.root.join("no-such-dir").exists());
}

// -------------------------------------------------------------- SQLITE_ERROR

#[test]
fn sqlite_error_on_a_file_that_is_not_a_database() {
    let fx = Fx::chain();
    fs::write(&fx.db, "this is not a database\n".repeat(200)).unwrap();
    let before_bytes = fs::read(&fx.db).unwrap();
    let msg = "file is not a database";
    assert_err(fx.upgrade("heads"), "SQLITE_ERROR", msg);
    for args in [&["upgrade", "heads"][..], &["current"], &["stamp", "heads"]] {
        assert_cli_fails(&fx.cli(args), "SQLITE_ERROR", msg);
    }
    assert_eq!(fs::read(&fx.db).unwrap(), before_bytes);
    assert_eq!(fs::read_dir(fx.db.parent().unwrap()).unwrap().count(), 1, "no journal left behind");
}

// ------------------------------------------------- no database file created

#[test]
fn read_only_commands_never_create_the_database() {
    let fx = Fx::chain();
    fs::remove_file(&fx.db).unwrap();
    let cmds: &[&[&str]] = &[
        &["current"],
        &["current", "--verbose"],
        &["heads"],
        &["branches"],
        &["history"],
        &["history", "--indicate-current"],
        &["history", "-r", "current:"],
        &["show", "current"],
        &["upgrade", "heads", "--sql"],
        &["downgrade", "cccc0003:base", "--sql"],
        &["stamp", "heads", "--sql"],
    ];
    for args in cmds {
        let out = fx.cli(args);
        // --sql never reads --db (Alembic's offline mode), and says so on stderr, before
        // the steps it logs as Alembic does.
        let (warning, steps) = if args.contains(&"--sql") {
            let warning = format!(
                "WARNING [athanor] --sql does not read the database: '{}' is ignored and the SQL starts from base (or from FROM in FROM:TO)\n",
                fx.db_s()
            );
            (warning, out.stderr.lines().skip(1).collect::<Vec<_>>())
        } else {
            (String::new(), vec![])
        };
        assert_eq!(out.status, 0, "{args:?}");
        assert!(out.stderr.starts_with(&warning), "{args:?}: {}", out.stderr);
        assert!(steps.iter().all(|l| l.starts_with("INFO  [athanor] Running ")), "{args:?}: {}", out.stderr);
        if warning.is_empty() {
            assert_eq!(out.stderr, "", "{args:?}");
        } else {
            assert!(!steps.is_empty(), "{args:?}: the steps are logged");
        }
        assert!(!fx.db.exists(), "{args:?} created the database");
    }
    assert_eq!(fx.cli(&["current"]).stdout, "", "nothing is current in a missing database");
}

#[test]
fn failed_write_commands_on_a_missing_database_create_no_file() {
    // "changes nothing": a command that fails leaves no empty database behind.
    let fx = Fx::chain();
    fs::remove_file(&fx.db).unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (&["upgrade", "-1"], "INVALID_TARGET", "Relative revision -1 didn't produce 1 migrations"),
        (&["downgrade", "-1"], "INVALID_TARGET", "Relative revision -1 didn't produce 1 migrations"),
        (&["upgrade", "ffff0000"], "UNKNOWN_REVISION", "Can't locate revision identified by 'ffff0000': No such revision or branch 'ffff0000'"),
        (&["stamp", "ffff0000"], "UNKNOWN_REVISION", "Can't locate revision identified by 'ffff0000': No such revision or branch 'ffff0000'"),
    ];
    for (args, code, msg) in cases {
        assert_cli_fails(&fx.cli(args), code, msg);
        assert!(!fx.db.exists(), "{args:?} created the database");
    }
}

// ------------------------------------------------------------------ autogenerate

#[test]
fn autogenerate_refuses_a_database_behind_the_heads_and_check_lists_differences() {
    let fx = Fx::chain_at(A);
    let schema = fx.root.join("schema.sql");
    fs::write(&schema, "CREATE TABLE extra (x INTEGER);\n").unwrap();
    let schema_arg = schema.to_string_lossy().into_owned();
    let before = fx.snap();
    let files = fs::read_dir(&fx.dir).unwrap().count();
    // Alembic's words; nothing written, the database untouched.
    let out = fx.cli(&["--schema", &schema_arg, "revision", "--autogenerate", "-m", "x"]);
    assert_cli_fails(&out, "NOT_UP_TO_DATE", "Target database is not up to date.");
    assert_eq!(fs::read_dir(&fx.dir).unwrap().count(), files);
    fx.assert_unchanged(&before);
    fx.upgrade("heads").unwrap();
    let out = fx.cli(&["--schema", &schema_arg, "check"]);
    assert_eq!(out.status, 1);
    let changes = [
        "drop table app_data (its rows are deleted)",
        "add table extra",
        "drop table t1 (its rows are deleted)",
        "drop table t2 (its rows are deleted)",
        "drop table t3 (its rows are deleted)",
    ];
    assert_eq!(out.stderr, format!("FAILED [{}]: New upgrade operations detected: {}\n", "SCHEMA_DIFF", changes.join("; ")));
    assert_eq!(out.stdout, changes.iter().map(|c| format!("- {c}\n")).collect::<String>());
}

// ------------------------------------------------------------------ coverage

#[test]
fn test_and_lint_report_findings_with_their_codes_and_never_touch_the_database() {
    // The database is at B, with the application's own rows; C's downgrade forgets t3.
    let fx = Fx::chain_at(B);
    fx.write(FC, &script(C, B, UP_C, Some("")));
    let before = fx.snap();
    let out = fx.cli(&["test", "--seed"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    let fc = fx.path(FC);
    assert!(
        out.stderr.ends_with(&format!(
            "FAILED [{}]: Round trip failed at the downgrade of {C} ({fc}): it does not restore the schema; from the one before the upgrade to the one after the downgrade: add table t3\n",
            "ROUND_TRIP_FAILED"
        )),
        "{}",
        out.stderr
    );
    fx.assert_unchanged(&before);
    // lint's default: what the database has not applied, C alone here; D drops t1.
    let out = fx.cli(&["lint"]);
    assert_eq!((out.status, out.stdout.as_str()), (0, "No lint findings in 1 revision.\n"), "{}", out.stderr);
    fx.write("dddd0004_drop_t1.sql", &script("dddd0004", C, "DROP TABLE t1;", None));
    let out = fx.cli(&["lint"]);
    let fd = fx.path("dddd0004_drop_t1.sql");
    assert_eq!(
        out.stdout,
        format!("{fd}:6: destructive: table t1 dropped (its rows are deleted)\n{fd}:6: backward-incompatible: table t1 dropped (clients on the old schema still use it)\n")
    );
    assert!(out.stderr.ends_with(&format!(
        "FAILED [{}]: 2 lint finding(s) in 1 revision(s) (accept one on purpose with '-- athanor:lint-ignore CLASS' in its migration)\n",
        "LINT_FINDINGS"
    )));
    assert_eq!(out.status, 1);
    fx.assert_unchanged(&before);
}

#[test]
fn every_error_code_is_exercised_here() {
    // A code added to the source without a test here fails this test.
    let source = include_str!("sqlite_errors.rs");
    let missing: Vec<&str> = athanor::core::error::ERROR_CODES.iter().copied().filter(|code| !source.contains(&format!("\"{code}\""))).collect();
    assert_eq!(missing, Vec::<&str>::new());
}

#[test]
fn a_failing_transaction_false_section_is_rolled_back_and_foreign_keys_restored() {
    // A table rebuild opens its own transaction and turns foreign keys off; when it
    // fails half-way, nothing of it stays and the connection is as it was.
    let fx = Fx::chain();
    let up = "PRAGMA foreign_keys=OFF;\nBEGIN;\nCREATE TABLE t9 (x);\nINSERT INTO nope VALUES (1);\nCOMMIT;\nPRAGMA foreign_keys=ON;";
    fx.write(
        FC,
        &format!("-- Revision ID: {C}\n-- Revises: {B}\n-- Message: rebuild\n\n-- migrate:upgrade transaction:false\n{up}\n\n-- migrate:downgrade\n"),
    );
    let conn = fx.conn();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let map = athanor::cli::commands::load_map(&NativeHost, &fx.dir_s()).unwrap();
    let engine = athanor::sqlite::runner::Engine::new(&conn, &map, athanor::sqlite::runner::Options::default());
    let err = engine.upgrade("heads", &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "MIGRATION_FAILED");
    assert!(conn.is_autocommit(), "no transaction left open");
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 1, "foreign keys back to what the connection had");
    let t9: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 't9'", [], |r| r.get(0)).unwrap();
    assert_eq!(t9, 0, "the section's own transaction was rolled back");
    assert_eq!(engine.current_rows().unwrap(), vec![B.to_string()]);
    // The lock held for the section is given back, and the connection works on.
    assert_released(&fx, &conn);
    assert_eq!(engine.upgrade("heads", &mut |_| {}).unwrap_err().code(), "MIGRATION_FAILED");
    assert_released(&fx, &conn);
}

/// `conn` (still open) holds no lock: another connection takes the file's exclusive
/// lock at once; and no journal is left beside the database.
#[track_caller]
fn assert_released(fx: &Fx, conn: &Connection) {
    let mode: String = conn.query_row("PRAGMA main.locking_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "normal");
    let other = Connection::open(&fx.db).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE; ROLLBACK").expect("a lock was kept");
    assert!(!fx.db.with_file_name("app.db-journal").exists(), "a journal was left");
}

/// A migration whose upgrade opts out of the run's transaction (a table rebuild's shape).
fn outside_script(id: &str, revises: &str, up: &str) -> String {
    format!(
        "-- Revision ID: {id}\n-- Revises: {revises}\n-- Message: step {id}\n\n-- migrate:upgrade transaction:false\n{up}\n\n-- migrate:downgrade\n"
    )
}

#[test]
fn a_step_failing_after_a_transaction_false_section_keeps_that_section_recorded() {
    // The section commits its own work, so its version row must be committed with it:
    // rolled back with C's failure, it would leave t2 built but B unrecorded, and the
    // next run would build t2 again.
    let fx = Fx::chain();
    fx.write(FB, &outside_script(B, A, "BEGIN;\nCREATE TABLE t2 (id INTEGER PRIMARY KEY);\nCOMMIT;"));
    fx.write(FC, &script(C, B, "INSERT INTO nope VALUES (1);", None));
    assert_eq!(fx.upgrade("heads").unwrap_err().code(), "MIGRATION_FAILED");
    assert_eq!(fx.rows(), [B]);
    assert_eq!(fx.tables(), ["alembic_version", "app_data", "athanor_history", "t1", "t2"]);
    assert_eq!(fx.history_revisions(), [A, B]);
    fx.write(FC, &script(C, B, UP_C, None));
    assert_eq!(fx.upgrade("heads").unwrap().plan.steps.len(), 1, "only C is left to run");
    assert_eq!(fx.rows(), [C]);
}

#[test]
fn a_transaction_false_section_runs_once_while_a_second_migrator_tries_the_same_step() {
    for journal in ["delete", "wal"] {
        // B's section counts its runs, then a second migrator, on its own connection,
        // upgrades the same file while the section is running (`race()`). It must not
        // run B again: it waits for the lock, which the first keeps until B's version
        // row is committed, so here (the first waits for it) it ends LOCKED.
        let fx = Fx::chain_at(A);
        fx.write(FB, &outside_script(B, A, "CREATE TABLE IF NOT EXISTS runs (n);\nINSERT INTO runs VALUES (1);\nSELECT race();"));
        let conn = fx.conn();
        conn.execute_batch(&format!("PRAGMA journal_mode = {journal}")).unwrap();
        let second: Arc<Mutex<Option<Result<usize, &str>>>> = Arc::default();
        let (dir, db, out) = (fx.dir_s(), fx.db_s(), second.clone());
        conn.create_scalar_function("race", 0, FunctionFlags::SQLITE_UTF8, move |_| {
            let map = load_map(&NativeHost, &dir).unwrap();
            let other = Connection::open(&db).unwrap();
            other.busy_timeout(Duration::from_millis(100)).unwrap();
            // Should the second migrator run B, its `race()` does nothing.
            other.create_scalar_function("race", 0, FunctionFlags::SQLITE_UTF8, |_| Ok(0)).unwrap();
            let r = Engine::new(&other, &map, Options::default()).upgrade("heads", &mut |_| {});
            *out.lock().unwrap() = Some(r.map(|r| r.plan.steps.len()).map_err(|e| e.code()));
            Ok(0)
        })
        .unwrap();
        let map = fx.load().unwrap();
        let report = Engine::new(&conn, &map, Options::default()).upgrade("heads", &mut |_| {});
        let second = second.lock().unwrap().take();
        assert!(matches!(second, Some(Err("LOCKED"))), "{journal}: the second migrator got {second:?}");
        assert_eq!(report.map(|r| r.plan.steps.len()), Ok(2), "{journal}");
        let runs: i64 = conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
        assert_eq!(runs, 1, "{journal}: B's section ran {runs} times");
        assert_eq!((fx.rows(), fx.history_revisions()), (vec![C.to_string()], vec![A.to_string(), B.into(), C.into()]));
        assert_released(&fx, &conn);
    }
}

#[test]
fn in_wal_mode_a_transaction_false_step_waits_for_the_other_connections_to_close() {
    // WAL keeps a shared lock on the file for every open connection, and keeping the
    // file locked past a commit needs it alone: LOCKED before anything runs.
    let fx = Fx::chain_at(A);
    fx.write(FB, &outside_script(B, A, UP_B));
    let conn = fx.conn();
    conn.execute_batch("PRAGMA journal_mode = wal").unwrap();
    let idle = Connection::open(&fx.db).unwrap();
    idle.query_row("SELECT count(*) FROM alembic_version", [], |_| Ok(())).unwrap();
    let map = fx.load().unwrap();
    let engine = Engine::new(&conn, &map, Options::default());
    assert_eq!(engine.upgrade("heads", &mut |_| {}).unwrap_err().code(), "LOCKED");
    assert_eq!((fx.rows(), fx.tables().contains(&"t2".to_string())), (vec![A.to_string()], false));
    drop(idle);
    assert_released(&fx, &conn);
    assert_eq!(engine.upgrade("heads", &mut |_| {}).unwrap().plan.steps.len(), 2);
    assert_eq!(fx.rows(), [C]);
}

#[test]
fn opfs_unavailable_says_why_and_what_to_do() {
    // Raised by the wasm build only (browser persistence); the real case is exercised in
    // headless Chromium (tests/js/browser.test.mjs). Here: its code and its advice.
    let e = athanor::core::error::Error::OpfsUnavailable("no sync access handles".into());
    assert_eq!(e.code(), "OPFS_UNAVAILABLE");
    assert!(e.to_string().contains("storage: \"memory\""), "{e}");
}

#[test]
fn node_sqlite_unavailable_says_what_to_do_instead() {
    // Raised for database files in a Node without node:sqlite (the npm CLI and the JS
    // API); the real case runs on the machine's Node 20 in tests/js/shared_file.test.mjs.
    let e = athanor::core::error::Error::NodeSqliteUnavailable("Node v20.20.2 has no node:sqlite".into());
    assert_eq!(e.code(), "NODE_SQLITE_UNAVAILABLE");
    let text = e.to_string();
    assert!(text.contains("Node 22.13 or later") && text.contains("betterSqlite3(db)") && text.contains("v20.20.2"), "{e}");
}

#[test]
fn worker_failed_is_raised_by_the_package_js() {
    // "WORKER_FAILED" has no Rust variant: pkg-template/worker-client.js and
    // opfs-worker.js raise it, and tests/js/worker_failure.test.mjs drives them in Chromium.
    let js = include_str!("../pkg-template/worker-client.js").to_owned() + include_str!("../pkg-template/opfs-worker.js");
    assert_eq!(js.matches("\"WORKER_FAILED\"").count(), 2);
}

#[test]
fn both_readmes_list_every_error_code() {
    // The npm README is all a package user has: its table must name every code.
    for (name, text) in [("README.md", include_str!("../README.md")), ("pkg-template/README.md", include_str!("../pkg-template/README.md"))] {
        let section = &text[text.find("## Error codes").unwrap_or_else(|| panic!("{name} has no '## Error codes'"))..];
        let section = section[3..].find("\n## ").map_or(section, |end| &section[..end + 3]);
        let missing: Vec<&str> = athanor::core::error::ERROR_CODES.iter().copied().filter(|c| !section.contains(&format!("`{c}`"))).collect();
        assert_eq!(missing, Vec::<&str>::new(), "{name}");
    }
}

#[test]
fn the_typescript_error_codes_are_the_rust_ones() {
    // The JS types spell the union out (a wasm-bindgen custom section is a literal).
    let union = athanor::core::error::ERROR_CODES.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(" | ");
    assert!(
        include_str!("../src/wasm/error.rs").contains(&format!("export type ErrorCode = {union};")),
        "src/wasm/error.rs's ErrorCode differs from ERROR_CODES"
    );
}
