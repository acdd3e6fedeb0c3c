//! `adopt` through the CLI binary: a base revision written from an existing database's
//! own schema, the database stamped at it.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::athanor_bin as athanor;
use rusqlite::Connection;

/// `sqlite_master` as a set of (type, name, tbl_name, sql), athanor's own tables left out.
fn master(db: &Path) -> BTreeSet<(String, String, String, Option<String>)> {
    let conn = Connection::open(db).unwrap();
    let mut st = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master").unwrap();
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap();
    rows.map(Result::unwrap).filter(|(_, _, t, _): &(String, String, String, Option<String>)| !common::OWN.contains(&t.as_str())).collect()
}

/// Every file under `dir` with its bytes, and the database's bytes: what "changes
/// nothing" compares.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for e in walk(dir) {
        v.push((e.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), std::fs::read(&e).unwrap()));
    }
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Adopts `p/final.db` with `--write-schema`, then checks: the revision upgrades a
/// fresh database to the same schema, `check` finds nothing, `current` is the new
/// revision, and the downgrade leaves an empty schema.
fn adopt_and_compare(p: &Path, label: &str) {
    let before = master(&p.join("final.db"));
    let (code, out, err) = athanor(p, &["--db", "final.db", "adopt", "--rev-id", "adopt0000001", "--write-schema"]);
    assert_eq!(code, 0, "{label}: {err}");
    assert_eq!(out, "Generating migrations/adopt0000001_adopt_existing_schema.sql ...  done\nGenerating schema.sql ...  done\n", "{label}");
    assert_eq!(err, "INFO  [athanor] Running stamp_revision  -> adopt0000001\n", "{label}");
    assert_eq!(master(&p.join("final.db")), before, "{label}: adopt changed the schema");
    let (_, out, _) = athanor(p, &["--db", "final.db", "current"]);
    assert_eq!(out, "adopt0000001 (head)\n", "{label}");
    let (code, _, err) = athanor(p, &["--db", "fresh.db", "upgrade", "head"]);
    assert_eq!(code, 0, "{label}: {err}");
    assert_eq!(master(&p.join("fresh.db")), before, "{label}: the adopted base builds another schema");
    let (code, out, err) = athanor(p, &["check"]);
    assert_eq!((code, out.as_str()), (0, "No new upgrade operations detected.\n"), "{label}: {err}");
    let (code, _, err) = athanor(p, &["--db", "fresh.db", "downgrade", "base"]);
    assert_eq!(code, 0, "{label}: {err}");
    let left: Vec<_> = master(&p.join("fresh.db")).into_iter().filter(|o| o.1 != "sqlite_sequence").collect();
    assert!(left.is_empty(), "{label}: the downgrade leaves {left:?}");
}

#[test]
fn adopts_each_real_history_final_database() {
    // authelia's history needs an app-defined SQL function (BIN2B64) to upgrade; tests/corpus.rs covers it.
    for name in ["atuin", "atuin-scripts", "atuin-server-sqlite", "flipt", "memos", "pingvin-share", "vaultwarden"] {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        let versions = common::corpus().join(name).join("versions");
        let (code, _, err) = athanor(p, &["--dir", versions.to_str().unwrap(), "--db", "final.db", "upgrade", "head"]);
        assert_eq!(code, 0, "{name}: {err}");
        Connection::open(p.join("final.db")).unwrap().execute_batch("DROP TABLE alembic_version; DROP TABLE athanor_history;").unwrap();
        adopt_and_compare(p, name);
    }
}

const TRICKY: &str = "
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, deleted_at TEXT);
CREATE TABLE \"Audit Log\" (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), what TEXT);
CREATE UNIQUE INDEX users_live_email ON users(email) WHERE deleted_at IS NULL;
CREATE VIEW live_users AS SELECT id, email FROM users WHERE deleted_at IS NULL;
CREATE VIEW live_emails AS SELECT email FROM live_users;
CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN INSERT INTO \"Audit Log\" (user_id, what) VALUES (new.id, 'update'); END;
CREATE TRIGGER live_users_insert INSTEAD OF INSERT ON live_users BEGIN INSERT INTO users (email) VALUES (new.email); END;
CREATE VIRTUAL TABLE notes USING fts5(title, body);
INSERT INTO users (email) VALUES ('a@example.com');
";

#[test]
fn adopts_views_over_views_triggers_fts5_and_partial_indexes() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    Connection::open(p.join("final.db")).unwrap().execute_batch(TRICKY).unwrap();
    adopt_and_compare(p, "tricky");
    let text = std::fs::read_to_string(p.join("migrations/adopt0000001_adopt_existing_schema.sql")).unwrap();
    // No shadow table of the FTS5 table, no sqlite_sequence, and rows stay where they are.
    for shadow in ["notes_data", "notes_idx", "notes_content", "notes_docsize", "notes_config", "sqlite_sequence"] {
        assert!(!text.contains(shadow), "{shadow} in:\n{text}");
    }
    assert!(text.contains("-- Revises:"), "{text}");
    let down = text.split("-- migrate:downgrade\n").nth(1).unwrap();
    assert_eq!(
        down,
        "DROP VIEW IF EXISTS \"live_emails\";\nDROP VIEW IF EXISTS \"live_users\";\nDROP TABLE IF EXISTS \"notes\";\nDROP TABLE IF EXISTS \"Audit Log\";\nDROP TABLE IF EXISTS \"users\";\n"
    );
    let n: i64 = Connection::open(p.join("final.db")).unwrap().query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn message_and_version_table_options() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    Connection::open(p.join("app.db")).unwrap().execute_batch("CREATE TABLE t (a); CREATE TABLE my_versions (v);").unwrap();
    let (code, out, err) = athanor(p, &["--db", "app.db", "--version-table", "ver", "adopt", "-m", "Baseline v1", "--rev-id", "base00000001"]);
    assert_eq!((code, out.as_str()), (0, "Generating migrations/base00000001_baseline_v1.sql ...  done\n"), "{err}");
    let text = std::fs::read_to_string(p.join("migrations/base00000001_baseline_v1.sql")).unwrap();
    assert!(text.contains("-- Message: Baseline v1\n"), "{text}");
    assert!(text.contains("CREATE TABLE my_versions (v);"), "{text}");
    assert!(!text.contains("CREATE TABLE ver"), "{text}");
    assert!(!p.join("schema.sql").exists());
    let (_, out, _) = athanor(p, &["--db", "app.db", "--version-table", "ver", "current"]);
    assert_eq!(out, "base00000001 (head)\n");
    // adopt takes only its own options.
    let (code, _, err) = athanor(p, &["--db", "app.db", "adopt", "--autogenerate"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("FAILED [USAGE]: adopt does not take --autogenerate (its options: --message, --rev-id, --write-schema)"), "{err}");
    let (code, out, _) = athanor(p, &["adopt", "--help"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("usage: athanor --db PATH adopt"), "{out}");
}

#[test]
fn bad_input_gets_its_code_and_changes_nothing() {
    let cases: &[(&str, &str, &[&str], i32, &str)] = &[
        // (setup SQL for app.db, or "" for no file / "-" for an empty file; extra files; args; status; error start)
        ("CREATE TABLE t (a);", "", &["adopt"], 2, "FAILED [USAGE]: 'adopt' needs a database: pass --db PATH"),
        ("", "", &["--db", "app.db", "adopt"], 1, "FAILED [IO_ERROR]: database 'app.db' does not exist"),
        ("-", "", &["--db", "app.db", "adopt"], 2, "FAILED [USAGE]: database 'app.db' has no tables, views, indexes or triggers: nothing to adopt"),
        (
            "CREATE TABLE t (a); CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY); INSERT INTO alembic_version VALUES ('abc');",
            "",
            &["--db", "app.db", "adopt"],
            2,
            "FAILED [USAGE]: database 'app.db' is already under migrations (alembic_version holds abc): use upgrade or stamp instead",
        ),
        ("CREATE TABLE t (a);", "revision", &["--db", "app.db", "adopt"], 2, "FAILED [USAGE]: migrations directory 'migrations' already has revisions"),
        (
            "CREATE TABLE t (a);",
            "schema",
            &["--db", "app.db", "adopt", "--write-schema"],
            2,
            "FAILED [USAGE]: schema file 'schema.sql' already exists: adopt --write-schema does not overwrite it",
        ),
        ("CREATE TABLE t (a);", "", &["--db", "app.db", "adopt", "extra"], 2, "FAILED [USAGE]: adopt takes no positional arguments"),
        ("CREATE TABLE t (a);", "", &["--db", "app.db", "adopt", "--rev-id", "no spaces"], 2, "FAILED [USAGE]: "),
    ];
    for (setup, extra, args, status, message) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        std::fs::create_dir(p.join("migrations")).unwrap();
        match *setup {
            "" => {}
            "-" => std::fs::write(p.join("app.db"), b"").unwrap(),
            sql => Connection::open(p.join("app.db")).unwrap().execute_batch(sql).unwrap(),
        }
        match *extra {
            "revision" => {
                let (code, _, err) = athanor(p, &["revision", "-m", "first", "--rev-id", "aaaa00000001"]);
                assert_eq!(code, 0, "{err}");
            }
            "schema" => std::fs::write(p.join("schema.sql"), "CREATE TABLE other (b);\n").unwrap(),
            _ => {}
        }
        let before = snapshot(p);
        let (code, out, err) = athanor(p, args);
        assert_eq!(code, *status, "{args:?}: {err}");
        assert!(err.starts_with(message), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(snapshot(p), before, "{args:?} changed something");
    }
}

#[test]
fn downgrade_drops_children_before_a_parent_made_after_them() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    // A child created before its parent (as after a rebuild of the parent), a keyword as a table name.
    Connection::open(p.join("final.db"))
        .unwrap()
        .execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES \"order\"(id)); CREATE TABLE \"order\" (id INTEGER PRIMARY KEY);")
        .unwrap();
    adopt_and_compare(p, "children first");
    let text = std::fs::read_to_string(p.join("migrations/adopt0000001_adopt_existing_schema.sql")).unwrap();
    assert!(text.ends_with("-- migrate:downgrade\nDROP TABLE IF EXISTS \"items\";\nDROP TABLE IF EXISTS \"order\";\n"), "{text}");
    // With rows and foreign keys on (as on D1, which always enforces them; the CLI turns
    // them off), the downgrade's statements still run, where reverse creation order fails.
    let (code, _, err) = athanor(p, &["--db", "fresh.db", "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    let down = text.split("-- migrate:downgrade\n").nth(1).unwrap();
    let conn = Connection::open(p.join("fresh.db")).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON; INSERT INTO \"order\" VALUES (1); INSERT INTO items VALUES (1, 1);").unwrap();
    let err = conn.execute_batch("BEGIN; DROP TABLE \"order\";").unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY constraint failed"), "{err}");
    conn.execute_batch("ROLLBACK").unwrap();
    conn.execute_batch(&format!("BEGIN; {down} COMMIT;")).unwrap();
    drop(conn);
    assert!(master(&p.join("fresh.db")).is_empty());
}
