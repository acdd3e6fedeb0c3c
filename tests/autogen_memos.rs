//! `athanor check` on memos' whole history against upstream's declared schema
//! (tests/fixtures/corpus/memos/schema.sql, memos' LATEST.sql). The two really differ, as
//! tests/fixtures/corpus/SOURCES.md and `python3 verify.py -v` document: `migration_history`
//! and `storage` survive only in upgraded databases; `memo.uid`, `attachment.uid` and
//! `idp.uid` keep `DEFAULT ''` and a separately named unique index, where LATEST.sql
//! declares them `UNIQUE` with no default; and the column order of those three tables
//! differs. `check` must list exactly those differences, no more and no fewer.
//!
//! memos' history only runs with foreign keys off (its 0.3/00 drops a table other
//! tables' foreign keys still name), as memos itself opens SQLite; the scratch database
//! `check` builds the heads' schema in has them off too.
//!
//! Override the corpus location with `ATHANOR_CORPUS=/path/to/corpus`.

mod common;

use common::corpus;

use athanor::cli::{run, NativeHost, Output};

fn athanor(args: &[&str]) -> Output {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(&argv, &NativeHost)
}

fn memos_check() -> Output {
    let memos = corpus().join("memos");
    let (dir, schema) = (memos.join("versions"), memos.join("schema.sql"));
    athanor(&["--dir", dir.to_str().unwrap(), "--schema", schema.to_str().unwrap(), "check"])
}

/// The differences, in `check`'s order (tables by name, then indexes by name).
const EXPECTED: &[&str] = &[
    // attachment.uid: DEFAULT "" (0.19/00 wrote it double-quoted) and no UNIQUE of its
    // own; LATEST.sql: `uid TEXT NOT NULL UNIQUE`. The columns were added over time.
    r#"column attachment.uid: DEFAULT "" -> none"#,
    "column attachment.uid: definition changed (COLLATE, CHECK, UNIQUE or generated expression)",
    "table attachment: column order changed",
    "column idp.uid: DEFAULT '' -> none",
    "column idp.uid: definition changed (COLLATE, CHECK, UNIQUE or generated expression)",
    "table idp: column order changed",
    r#"column memo.uid: DEFAULT "" -> none"#,
    "column memo.uid: definition changed (COLLATE, CHECK, UNIQUE or generated expression)",
    "table memo: column order changed",
    // Only in upgraded databases: LATEST.sql has neither.
    "drop table migration_history (its rows are deleted)",
    "drop table storage (its rows are deleted)",
    // The separately named unique indexes; LATEST.sql's UNIQUE makes SQLite's own
    // sqlite_autoindex_* instead, which is part of the column, not an index to create.
    "drop index idx_idp_uid (unique) on idp(uid)",
    "drop index idx_memo_resource_name (unique) on memo(uid)",
    "drop index idx_resource_resource_name (unique) on attachment(uid)",
];

#[test]
fn check_lists_exactly_the_real_differences_from_latest_sql() {
    let out = memos_check();
    let listed: Vec<&str> = out.stdout.lines().collect();
    let expected: Vec<String> = EXPECTED.iter().map(|c| format!("- {c}")).collect();
    assert_eq!(listed, expected, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(out.status, 1);
    assert_eq!(out.stderr, format!("FAILED [SCHEMA_DIFF]: New upgrade operations detected: {}\n", EXPECTED.join("; ")));
}

/// What verify.py calls the 5 real differences, each named by at least one line, and
/// no table beyond the ones that really differ.
#[test]
fn check_names_each_difference_verify_py_reports() {
    let out = memos_check();
    assert_eq!(out.status, 1, "{}", out.stderr);
    for (what, needle) in [
        ("migration_history only in migrations", "drop table migration_history"),
        ("storage only in migrations", "drop table storage"),
        ("attachment.uid default", "column attachment.uid: DEFAULT"),
        ("idp.uid default", "column idp.uid: DEFAULT"),
        ("memo.uid default", "column memo.uid: DEFAULT"),
    ] {
        assert!(out.stdout.lines().any(|l| l.starts_with(&format!("- {needle}"))), "{what} missing:\n{}", out.stdout);
    }
    // Tables that agree with LATEST.sql (user, user_setting, system_setting, inbox,
    // reaction, memo_relation, memo_share, user_identity) are never mentioned.
    for t in ["user", "user_setting", "system_setting", "inbox", "reaction", "memo_relation", "memo_share", "user_identity"] {
        let named = |l: &str| {
            l.contains(&format!(" {t}.")) || l.contains(&format!(" {t}:")) || l.ends_with(&format!(" {t}")) || l.contains(&format!(" on {t}("))
        };
        assert!(!out.stdout.lines().any(named), "{t} is listed:\n{}", out.stdout);
    }
}

/// The same history checked against the schema it really builds (the list's inverse
/// applied by hand: LATEST.sql with the upgraded database's extras) is clean, so the
/// list above is not noise from reading the two sides differently.
#[test]
fn check_is_clean_against_the_schema_the_history_builds() {
    let memos = corpus().join("memos");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("memos.db");
    let dir = memos.join("versions");
    let up = athanor(&["--dir", dir.to_str().unwrap(), "--db", db.to_str().unwrap(), "upgrade", "heads"]);
    assert_eq!(up.status, 0, "{}", up.stderr);
    // The schema as the upgraded database holds it, written out as a schema.sql.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut st = conn
        .prepare(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             AND tbl_name NOT IN ('alembic_version', 'athanor_history') \
             ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid",
        )
        .unwrap();
    let texts: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let schema = tmp.path().join("schema.sql");
    std::fs::write(&schema, texts.iter().map(|t| format!("{t};\n")).collect::<String>()).unwrap();
    let out = athanor(&["--dir", dir.to_str().unwrap(), "--schema", schema.to_str().unwrap(), "check"]);
    assert_eq!((out.status, out.stdout.as_str(), out.stderr.as_str()), (0, "No new upgrade operations detected.\n", ""));
    // And against the upgraded database itself (--db): the same list as from scratch.
    let latest = memos.join("schema.sql");
    let from_db = athanor(&["--dir", dir.to_str().unwrap(), "--db", db.to_str().unwrap(), "--schema", latest.to_str().unwrap(), "check"]);
    assert_eq!(from_db, memos_check());
}
