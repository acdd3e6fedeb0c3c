//! Declared renames (`--rename old=new`, `--rename table.old=new`, the JS API's
//! `rename` option): written as `ALTER TABLE … RENAME`, which keeps the rows, where
//! autogenerate alone sees a drop and an add. Golden text, a round trip with rows
//! through the runner, and the errors for hints that do not fit the schemas.

mod common;

use athanor::autogen::{self, Generated, Renames, Schema};
use athanor::sqlite::runner::{Engine, Options};
use common::{athanor_bin as athanor, old_then_generated, schema, OWN};
use rusqlite::Connection;

fn hints(h: &[&str]) -> Renames {
    Renames::parse(&h.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

fn generated(old: &str, new: &str, h: &[&str]) -> Generated {
    autogen::generate_renaming(&schema(old), &schema(new), &hints(h)).unwrap().expect("a change")
}

fn rows(conn: &Connection, sql: &str) -> Vec<String> {
    let mut st = conn.prepare(sql).unwrap();
    let v = st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect();
    v
}

/// `old` as r1 with `data`, then the generated r2: up reaches `new` with `query`
/// (against the new names) giving `expected`; down returns to `old`, and up again.
fn round_trip(old: &str, new: &str, h: &[&str], data: &str, query: &str, expected: &[&str]) -> Generated {
    let g = generated(old, new, h);
    let map = old_then_generated(old, &g);
    let conn = Connection::open_in_memory().unwrap();
    let engine = Engine::new(&conn, &map, Options::default());
    engine.upgrade("r1", &mut |_| {}).unwrap();
    conn.execute_batch(data).unwrap();
    engine.upgrade("heads", &mut |_| {}).unwrap_or_else(|e| panic!("{e}\n{}", g.upgrade.sql));
    assert_eq!(Schema::read(&conn, OWN).unwrap(), schema(new), "after upgrade");
    assert_eq!(rows(&conn, query), expected, "rows kept through the rename");
    let fk: i64 = conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 0);
    engine.downgrade("r1", &mut |_| {}).unwrap_or_else(|e| panic!("{e}\n{}", g.downgrade.sql));
    assert_eq!(Schema::read(&conn, OWN).unwrap(), schema(old), "after downgrade");
    engine.upgrade("heads", &mut |_| {}).unwrap();
    assert_eq!(rows(&conn, query), expected, "rows kept through down and up again");
    g
}

const USERS: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nCREATE INDEX ix_users_name ON users (name);\nCREATE VIEW named AS SELECT name FROM users;\n";
const DATA: &str = "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');";
const RENAMED: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL);\nCREATE INDEX ix_users_name ON users (full_name);\nCREATE VIEW named AS SELECT full_name FROM users;\n";

#[test]
fn without_a_hint_a_renamed_column_is_a_drop_and_an_add() {
    let g = autogen::generate(&schema(USERS), &schema(RENAMED)).unwrap();
    assert!(g.changes.iter().any(|c| c.starts_with("drop column users.name")), "{:?}", g.changes);
}

#[test]
fn a_renamed_column() {
    let g = round_trip(USERS, RENAMED, &["users.name=full_name"], DATA, "SELECT full_name FROM named ORDER BY 1", &["ann", "bob"]);
    assert_eq!(g.changes, ["rename column users.name to full_name"]);
    assert_eq!(g.upgrade.sql, "-- rename column users.name to full_name\nALTER TABLE \"users\" RENAME COLUMN \"name\" TO \"full_name\";\n");
    assert_eq!(g.downgrade.sql, "-- rename column users.full_name to name\nALTER TABLE \"users\" RENAME COLUMN \"full_name\" TO \"name\";\n");
    assert!(g.upgrade.transactional && g.downgrade.transactional);
}

#[test]
fn a_renamed_table_with_a_child_that_references_it() {
    let old = format!("{USERS}CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n");
    let new = "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nCREATE INDEX ix_users_name ON people (name);\nCREATE VIEW named AS SELECT name FROM people;\n\
               CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES people (id));\n";
    let data = format!("{DATA} INSERT INTO posts VALUES (10, 1), (11, 2);");
    let g = round_trip(
        &old,
        new,
        &["users=people"],
        &data,
        "SELECT name || '/' || posts.id FROM people JOIN posts ON posts.user_id = people.id ORDER BY 1",
        &["ann/10", "bob/11"],
    );
    assert_eq!(g.changes, ["rename table users to people"]);
    assert_eq!(g.upgrade.sql, "-- rename table users to people\nALTER TABLE \"users\" RENAME TO \"people\";\n");
    assert_eq!(g.downgrade.sql, "-- rename table people to users\nALTER TABLE \"people\" RENAME TO \"users\";\n");
}

#[test]
fn a_renamed_table_and_column_with_a_rebuild_after_them() {
    // The column's table may be named by its old name or its new one.
    let new = "CREATE TABLE people (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, age INTEGER NOT NULL DEFAULT 0, CHECK (length(full_name) > 0));\nCREATE INDEX ix_users_name ON people (full_name);\nCREATE VIEW named AS SELECT full_name FROM people;\n";
    for h in [["users=people", "users.name=full_name"], ["people.name=full_name", "users=people"]] {
        let g = round_trip(USERS, new, &h, DATA, "SELECT full_name || age FROM people ORDER BY 1", &["ann0", "bob0"]);
        assert_eq!(g.changes[..2], ["rename table users to people", "rename column people.name to full_name"]);
        assert!(!g.upgrade.transactional, "the table CHECK needs a rebuild");
        let up = &g.upgrade.sql;
        // First, inside the rebuild's transaction.
        assert!(
            up.contains("BEGIN;\n-- rename table users to people\nALTER TABLE \"users\" RENAME TO \"people\";\n-- rename column people.name to full_name\nALTER TABLE \"people\" RENAME COLUMN \"name\" TO \"full_name\";\n-- "),
            "{up}"
        );
        // Undone last, in the reverse order, inside the rebuild's transaction.
        let down = &g.downgrade.sql;
        assert!(
            down.contains("-- rename column people.full_name to name\nALTER TABLE \"people\" RENAME COLUMN \"full_name\" TO \"name\";\n-- rename table people to users\nALTER TABLE \"people\" RENAME TO \"users\";\nPRAGMA foreign_key_check;\n"),
            "{down}"
        );
    }
}

#[test]
fn hints_that_do_not_fit_are_usage_errors() {
    for (h, msg) in [
        ("users.name", "--rename 'users.name': expected OLD=NEW (a table) or TABLE.OLD=NEW (a column)"),
        ("=x", "--rename '=x': expected OLD=NEW (a table) or TABLE.OLD=NEW (a column)"),
        ("a.b.c=d", "--rename 'a.b.c=d': expected OLD=NEW (a table) or TABLE.OLD=NEW (a column)"),
        ("a=b.c", "--rename 'a=b.c': expected OLD=NEW (a table) or TABLE.OLD=NEW (a column)"),
    ] {
        let e = Renames::parse(&[h.to_string()]).unwrap_err();
        assert_eq!((e.code(), e.to_string()), ("USAGE", msg.to_string()));
    }
    for (h, msg) in [
        ("nope=people", "--rename nope=people: no table nope to rename"),
        ("users=people", "--rename users=people: the declared schema has no table people"),
        ("users.nope=full_name", "--rename users.nope=full_name: table users has no column nope to rename"),
        ("users.name=other", "--rename users.name=other: the declared table users has no column other"),
        ("users.name=id", "--rename users.name=id: table users already has a column id"),
        ("ghosts.name=full_name", "--rename ghosts.name=full_name: no table ghosts"),
    ] {
        let e = autogen::generate_renaming(&schema(USERS), &schema(RENAMED), &hints(&[h])).unwrap_err();
        assert_eq!((e.code(), e.to_string()), ("USAGE", msg.to_string()), "{h}");
    }
    // A new name the current table already has.
    let both = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, nick TEXT);";
    let e = autogen::generate_renaming(
        &schema(both),
        &schema("CREATE TABLE users (id INTEGER PRIMARY KEY, nick TEXT NOT NULL);"),
        &hints(&["users.name=nick"]),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "--rename users.name=nick: table users already has a column nick");
}

// ------------------------------------------------------------------ through the CLI

#[test]
fn cli_revision_autogenerate_rename() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    assert_eq!(athanor(p, &["init"]).0, 0);
    std::fs::write(p.join("schema.sql"), USERS).unwrap();
    assert_eq!(athanor(p, &["revision", "--autogenerate", "-m", "users", "--rev-id", "aaaa00000001"]).0, 0);
    std::fs::write(p.join("schema.sql"), RENAMED).unwrap();
    // Without --autogenerate, a usage error; a hint that does not fit: nothing written.
    let (code, _, err) = athanor(p, &["revision", "-m", "x", "--rename", "users.name=full_name"]);
    assert_eq!((code, err.as_str()), (2, "FAILED [USAGE]: --rename needs --autogenerate\n"));
    let (code, _, err) = athanor(p, &["revision", "--autogenerate", "-m", "x", "--rename", "users.nick=full_name"]);
    assert_eq!((code, err.as_str()), (2, "FAILED [USAGE]: --rename users.nick=full_name: table users has no column nick to rename\n"));
    assert_eq!(std::fs::read_dir(p.join("migrations")).unwrap().count(), 1);

    let (code, _, err) = athanor(p, &["revision", "--autogenerate", "-m", "rename", "--rev-id", "aaaa00000002", "--rename=users.name=full_name"]);
    assert_eq!((code, err.as_str()), (0, "INFO  [athanor] Detected rename column users.name to full_name\n"));
    let text = std::fs::read_to_string(p.join("migrations/aaaa00000002_rename.sql")).unwrap();
    assert!(
        text.ends_with("-- migrate:upgrade\n-- rename column users.name to full_name\nALTER TABLE \"users\" RENAME COLUMN \"name\" TO \"full_name\";\n\n-- migrate:downgrade\n-- rename column users.full_name to name\nALTER TABLE \"users\" RENAME COLUMN \"full_name\" TO \"name\";\n"),
        "{text}"
    );
    assert_eq!(athanor(p, &["check"]), (0, "No new upgrade operations detected.\n".into(), String::new()));
    // The help says how.
    let (_, out, _) = athanor(p, &["revision", "--help"]);
    assert!(out.contains("--rename T.OLD=NEW"), "{out}");
}
