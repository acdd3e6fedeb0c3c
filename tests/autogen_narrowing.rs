//! Narrowing changes on tables that have rows: a column added NOT NULL without a
//! DEFAULT, a column made NOT NULL, a new CHECK, UNIQUE or foreign key, a type change
//! that would alter values. The generated SQL says at the statement what happens to
//! existing rows (golden text), and applied to a table with rows it either works with
//! every value kept or fails with a message naming the cause, leaving the database as
//! it was.

mod common;

use athanor::autogen::{self, Generated, Schema};
use athanor::sqlite::runner::{Engine, Options};
use common::{old_then_generated, schema, OWN};
use rusqlite::Connection;

fn generated(old: &str, new: &str) -> Generated {
    autogen::generate(&schema(old), &schema(new)).expect("a change is detected")
}

/// Every row of every table, as text.
fn dump(conn: &Connection) -> Vec<String> {
    let mut out = vec![];
    for (_, t) in Schema::read(conn, OWN).unwrap().tables {
        let cols: Vec<String> = t.columns.iter().map(|c| format!("quote(\"{}\")", c.name)).collect();
        let mut st = conn.prepare(&format!("SELECT {} FROM \"{}\"", cols.join(" || '|' || "), t.name)).unwrap();
        let mut rows: Vec<String> = st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect();
        rows.sort();
        out.push(format!("{}: {}", t.name, rows.join(", ")));
    }
    out
}

/// `old` as revision r1 with `data` in it, then the generated r2 applied: its result.
fn apply(old: &str, new: &str, data: &str) -> (Connection, athanor::core::error::Result<()>) {
    let g = generated(old, new);
    let map = old_then_generated(old, &g);
    let conn = Connection::open_in_memory().unwrap();
    let result = {
        let engine = Engine::new(&conn, &map, Options::default());
        engine.upgrade("r1", &mut |_| {}).unwrap();
        conn.execute_batch(data).unwrap();
        engine.upgrade("heads", &mut |_| {}).map(|_| ())
    };
    (conn, result)
}

/// The upgrade fails as a migration failure whose message contains `expected`, and
/// leaves the schema, the rows and the version table as they were. Returns the message.
fn fails(old: &str, new: &str, data: &str, expected: &str) -> String {
    let reference = Connection::open_in_memory().unwrap();
    reference.execute_batch(old).unwrap();
    reference.execute_batch(data).unwrap();
    let (conn, result) = apply(old, new, data);
    let e = result.expect_err("the upgrade must fail");
    assert_eq!(e.code(), "MIGRATION_FAILED", "{e}");
    assert!(e.to_string().contains(expected), "{e}");
    assert!(conn.is_autocommit(), "no transaction left open");
    assert_eq!(Schema::read(&conn, OWN).unwrap(), schema(old), "schema unchanged");
    assert_eq!(dump(&conn), dump(&reference), "rows unchanged");
    let at: String = conn.query_row("SELECT version_num FROM alembic_version", [], |r| r.get(0)).unwrap();
    assert_eq!(at, "r1");
    e.to_string()
}

/// The upgrade works and reaches `new`; returns the rows after it.
fn works(old: &str, new: &str, data: &str) -> Vec<String> {
    let (conn, result) = apply(old, new, data);
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Schema::read(&conn, OWN).unwrap(), schema(new));
    dump(&conn)
}

/// The section text between the rebuild frame's header and its foreign-key check.
fn body(r: &autogen::Rendered) -> &str {
    assert!(!r.transactional);
    let from = r.sql.find("BEGIN;\n").unwrap() + "BEGIN;\n".len();
    let to = r.sql.find("PRAGMA foreign_key_check;\n").unwrap();
    &r.sql[from..to]
}

// ------------------------------------------------- a column added NOT NULL, no DEFAULT

const USERS: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);";
const USERS_EMAIL: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT NOT NULL);";

#[test]
fn added_not_null_without_default_golden() {
    let g = generated(USERS, USERS_EMAIL);
    assert_eq!(
        body(&g.upgrade),
        r#"-- WARNING: add column users.email NOT NULL without a DEFAULT (existing rows have no value for it: the migration fails if users has rows)
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT, email TEXT NOT NULL);
-- users.email needs a value in existing rows: declare a DEFAULT, or delete this guard and give it one in the copy below
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "users.email is added NOT NULL without a DEFAULT: existing rows need a value" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM "users";
DROP TABLE athanor_guard;
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#
    );
    assert_eq!(
        g.downgrade.sql,
        r#"-- WARNING: drop column users.email (its data is deleted)
ALTER TABLE "users" DROP COLUMN "email";
"#
    );
    assert_eq!(
        g.changes,
        ["add column users.email NOT NULL without a DEFAULT (existing rows have no value for it: the migration fails if users has rows)"]
    );
}

#[test]
fn added_not_null_without_default_fails_on_rows_and_works_on_an_empty_table() {
    let e = fails(
        USERS,
        USERS_EMAIL,
        "INSERT INTO users VALUES (1, 'ann');",
        "CHECK constraint failed: users.email is added NOT NULL without a DEFAULT: existing rows need a value",
    );
    assert!(e.contains("INSERT INTO athanor_guard"), "{e}");
    assert_eq!(works(USERS, USERS_EMAIL, ""), ["users: "]);
    // With a DEFAULT, rows get it through ALTER TABLE: no rebuild, no guard.
    let with_default = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT NOT NULL DEFAULT '');";
    assert!(generated(USERS, with_default).upgrade.transactional);
    assert_eq!(works(USERS, with_default, "INSERT INTO users VALUES (1, 'ann');"), ["users: 1|'ann'|''"]);
}

#[test]
fn undoing_a_dropped_not_null_column_says_it_cannot_be_restored_and_fails_on_rows() {
    let g = generated(USERS_EMAIL, USERS);
    assert!(body(&g.downgrade).starts_with(
        "-- WARNING: add column users.email NOT NULL without a DEFAULT (existing rows have no value for it: the migration fails if users has rows) (the data it held cannot be restored)\n"
    ));
}

// ------------------------------------------------------------ a column made NOT NULL

#[test]
fn made_not_null_fails_on_a_null_and_keeps_rows_without_one() {
    let new = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);";
    let g = generated(USERS, new);
    assert_eq!(
        body(&g.upgrade),
        r#"-- WARNING: column users.name: NOT NULL added (rows where it is NULL make the migration fail)
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "users.name becomes NOT NULL: rows where it is NULL need a value first" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM "users" WHERE "name" IS NULL;
DROP TABLE athanor_guard;
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#
    );
    fails(
        USERS,
        new,
        "INSERT INTO users VALUES (1, 'ann'), (2, NULL);",
        "CHECK constraint failed: users.name becomes NOT NULL: rows where it is NULL need a value first",
    );
    assert_eq!(works(USERS, new, "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"), ["users: 1|'ann', 2|'bob'"]);
}

// -------------------------------------------------------- new CHECK, UNIQUE, foreign key

#[test]
fn a_new_check_fails_on_a_violating_row() {
    let new = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT CHECK (length(name) < 5));";
    assert!(body(&generated(USERS, new).upgrade).starts_with("-- WARNING: column users.name: definition changed"));
    fails(USERS, new, "INSERT INTO users VALUES (1, 'ann'), (2, 'bartholomew');", "CHECK constraint failed: length(name) < 5");
    assert_eq!(works(USERS, new, "INSERT INTO users VALUES (1, 'ann');"), ["users: 1|'ann'"]);
}

#[test]
fn a_new_unique_constraint_fails_on_duplicates() {
    let new = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, UNIQUE (name));";
    assert!(body(&generated(USERS, new).upgrade)
        .starts_with("-- WARNING: table users: constraint added: unique ( name ) (rows that violate it make the migration fail)\n"));
    fails(USERS, new, "INSERT INTO users VALUES (1, 'ann'), (2, 'ann');", "UNIQUE constraint failed: athanor_new_users.name");
    assert_eq!(works(USERS, new, "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"), ["users: 1|'ann', 2|'bob'"]);
}

#[test]
fn a_new_unique_index_fails_on_duplicates() {
    let new = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nCREATE UNIQUE INDEX ix_name ON users (name);";
    assert_eq!(
        generated(USERS, new).upgrade.sql,
        "-- WARNING: add index ix_name (unique) on users(name) (rows with duplicate keys make the migration fail)\nCREATE UNIQUE INDEX ix_name ON users (name);\n"
    );
    fails(USERS, new, "INSERT INTO users VALUES (1, 'ann'), (2, 'ann');", "UNIQUE constraint failed: users.name");
    // On a table the same migration creates there are no rows to collide: no warning.
    let g = generated("", new);
    assert!(g.upgrade.sql.contains("-- add index ix_name (unique) on users(name)\n"), "{}", g.upgrade.sql);
}

#[test]
fn a_new_foreign_key_fails_on_an_orphan() {
    let old = "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);";
    let new = "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));";
    assert!(body(&generated(old, new).upgrade)
        .starts_with("-- WARNING: table posts: foreign key added: (user_id) -> users(id) (rows without a parent make the migration fail)\n"));
    fails(
        old,
        new,
        "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (10, 1), (11, 99);",
        "CHECK constraint failed: foreign keys broken: see PRAGMA foreign_key_check",
    );
}

// --------------------------------------------------------------------- type changes

const AGE_TEXT: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, age TEXT);";
const AGE_INT: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER);";
const TYPE_GUARD: &str = "CHECK constraint failed: users.age: the new type would change stored values (e.g. '007' to 7); convert them first";

#[test]
fn a_type_change_that_would_alter_a_value_fails() {
    // Text that is not a number's own spelling would be turned into one.
    for v in ["'007'", "' 30'", "'1e2'", "'+5'"] {
        fails(AGE_TEXT, AGE_INT, &format!("INSERT INTO users VALUES (1, '30'), (2, {v});"), TYPE_GUARD);
    }
    // An integer beyond a double's precision would be rounded.
    let real = "CREATE TABLE users (id INTEGER PRIMARY KEY, age REAL);";
    fails(AGE_INT, real, "INSERT INTO users VALUES (1, 9007199254740993);", TYPE_GUARD);
    // Whatever converts to the same value is kept: a number's own spelling (as that
    // number: '1.0' is the real 1.0, stored as the equal integer 1), other text, NULL, blobs.
    assert_eq!(
        works(AGE_TEXT, AGE_INT, "INSERT INTO users VALUES (1, '30'), (2, 'abc'), (3, NULL), (4, x'00'), (5, '-4'), (6, '2.5'), (7, '1.0');"),
        ["users: 1|30, 2|'abc', 3|NULL, 4|X'00', 5|-4, 6|2.5, 7|1"]
    );
    assert_eq!(works(AGE_INT, real, "INSERT INTO users VALUES (1, 5), (2, -3);"), ["users: 1|5.0, 2|-3.0"]);
    assert_eq!(works(real, AGE_TEXT, "INSERT INTO users VALUES (1, 2.5), (2, 0.1);"), ["users: 1|'2.5', 2|'0.1'"]);
}

#[test]
fn a_type_change_within_one_affinity_keeps_values_and_warns_not() {
    let g = generated(AGE_TEXT, "CREATE TABLE users (id INTEGER PRIMARY KEY, age VARCHAR(10));");
    assert_eq!(g.changes, ["column users.age: type TEXT -> VARCHAR(10) (same affinity: values are kept as they are)"]);
    assert!(!body(&g.upgrade).contains("athanor_guard"));
}
