//! Autogenerate, one common change at a time: the exact SQL it writes (so any change
//! of output shows in review), and that the revision really works: applied through the
//! runner on a database with rows, the upgrade reaches the declared schema with the
//! kept columns' rows intact, and the downgrade returns to the original schema.

mod common;

use athanor::autogen::{self, Generated, Schema};
use athanor::sqlite::runner::{Engine, Options};
use common::{athanor_bin as athanor, old_then_generated, schema, OWN};
use rusqlite::Connection;

fn generated(old: &str, new: &str) -> Generated {
    autogen::generate(&schema(old), &schema(new)).expect("a change is detected")
}

/// Each table's rows, columns named in `cols` only, as sorted text (affinity changes
/// turn 5 into '5' and back; the value is what must survive).
fn rows(conn: &Connection, table: &str, cols: &[String]) -> Vec<String> {
    if cols.is_empty() {
        return vec![];
    }
    let list: Vec<String> = cols.iter().map(|c| format!("quote(CAST(\"{c}\" AS TEXT))")).collect();
    let sql = format!("SELECT {} FROM \"{table}\"", list.join(" || '|' || "));
    let mut st = conn.prepare(&sql).unwrap();
    let mut v: Vec<String> = st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect();
    v.sort();
    v
}

/// Rows of every column present in both schemas, per table present in both.
fn kept_rows(conn: &Connection, a: &Schema, b: &Schema) -> Vec<(String, Vec<String>)> {
    let mut out = vec![];
    for (k, t) in &a.tables {
        let Some(u) = b.tables.get(k) else { continue };
        let cols: Vec<String> = t.columns.iter().filter(|c| !c.generated() && u.column(&c.name).is_some()).map(|c| c.name.clone()).collect();
        out.push((k.clone(), rows(conn, &t.name, &cols)));
    }
    out
}

fn assert_healthy(conn: &Connection) {
    let fk: i64 = conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 0, "foreign_key_check");
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

/// Applies `old` as revision r1, inserts `data`, then the generated r2 up and down.
pub fn round_trip(old: &str, new: &str, data: &str) -> Generated {
    let g = generated(old, new);
    let (a, b) = (schema(old), schema(new));
    let map = old_then_generated(old, &g);
    let conn = Connection::open_in_memory().unwrap();
    let engine = Engine::new(&conn, &map, Options::default());
    engine.upgrade("r1", &mut |_| {}).unwrap();
    conn.execute_batch(data).unwrap();
    let before = kept_rows(&conn, &a, &b);
    engine.upgrade("heads", &mut |_| {}).unwrap_or_else(|e| panic!("upgrade: {e}\n{}", g.upgrade.sql));
    assert_eq!(Schema::read(&conn, OWN).unwrap(), b, "after upgrade");
    assert_eq!(kept_rows(&conn, &a, &b), before, "rows after upgrade");
    assert_healthy(&conn);
    // Nothing is left to generate once upgraded.
    assert!(autogen::generate(&Schema::read(&conn, OWN).unwrap(), &b).is_none());
    engine.downgrade("r1", &mut |_| {}).unwrap_or_else(|e| panic!("downgrade: {e}\n{}", g.downgrade.sql));
    assert_eq!(Schema::read(&conn, OWN).unwrap(), a, "after downgrade");
    assert_eq!(kept_rows(&conn, &a, &b), before, "rows after downgrade");
    assert_healthy(&conn);
    g
}

/// The frame around every rebuild (see src/autogen/render.rs for why).
const REBUILD_HEAD: &str = r#"-- A table rebuild runs outside the runner's transaction, with foreign keys off
-- (SQLite's documented procedure), in a transaction of its own.
PRAGMA foreign_keys=OFF;
BEGIN;
"#;
const REBUILD_TAIL: &str = r#"PRAGMA foreign_key_check;
-- The check above only reports; this fails the migration if any foreign key is broken.
CREATE TEMP TABLE athanor_fk_check (violations INTEGER CONSTRAINT "foreign keys broken: see PRAGMA foreign_key_check" CHECK (violations = 0));
INSERT INTO athanor_fk_check SELECT count(*) FROM pragma_foreign_key_check;
DROP TABLE athanor_fk_check;
COMMIT;
PRAGMA foreign_keys=ON;
"#;

/// `body` as the section text: framed when `rebuild`.
fn framed(body: &str, rebuild: bool) -> String {
    if rebuild {
        format!("{REBUILD_HEAD}{body}{REBUILD_TAIL}")
    } else {
        body.to_string()
    }
}

fn golden(old: &str, new: &str, data: &str, rebuild: bool, up: &str, down: &str) {
    let g = round_trip(old, new, data);
    assert_eq!(g.upgrade.sql, framed(up, rebuild), "upgrade");
    assert_eq!(g.downgrade.sql, framed(down, rebuild), "downgrade");
    assert_eq!((g.upgrade.transactional, g.downgrade.transactional), (!rebuild, !rebuild));
    // Deterministic: the same inputs give the same text.
    assert_eq!(generated(old, new), g);
}

#[test]
fn add_table() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE tags (name TEXT NOT NULL, weight REAL DEFAULT 1.0);
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        false,
        r#"-- add table tags
CREATE TABLE tags (name TEXT NOT NULL, weight REAL DEFAULT 1.0);
"#,
        r#"-- WARNING: drop table tags (its rows are deleted)
DROP TABLE "tags";
"#,
    );
}

#[test]
fn drop_table() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE tags (name TEXT NOT NULL);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob'); INSERT INTO tags VALUES ('x');"#,
        false,
        r#"-- WARNING: drop table tags (its rows are deleted)
DROP TABLE "tags";
"#,
        r#"-- add table tags (the data it held cannot be restored)
CREATE TABLE tags (name TEXT NOT NULL);
"#,
    );
}

#[test]
fn add_column() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT DEFAULT 'none');
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        false,
        r#"-- add column users.email
ALTER TABLE "users" ADD COLUMN email TEXT DEFAULT 'none';
"#,
        r#"-- WARNING: drop column users.email (its data is deleted)
ALTER TABLE "users" DROP COLUMN "email";
"#,
    );
}

#[test]
fn drop_column() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"INSERT INTO users VALUES (1, 'ann', 'a@x'), (2, 'bob', NULL);"#,
        false,
        r#"-- WARNING: drop column users.email (its data is deleted)
ALTER TABLE "users" DROP COLUMN "email";
"#,
        r#"-- add column users.email (the data it held cannot be restored)
ALTER TABLE "users" ADD COLUMN email TEXT;
"#,
    );
}

#[test]
fn change_type() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, age TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER);
"#,
        r#"INSERT INTO users VALUES (1, '30'), (2, '41');"#,
        true,
        r#"-- WARNING: column users.age: type TEXT -> INTEGER (values are converted to the new type's affinity; the migration fails if that would change one)
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, age INTEGER);
INSERT INTO "athanor_new_users" ("id", "age") SELECT "id", "age" FROM "users";
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "users.age: the new type would change stored values (e.g. '007' to 7); convert them first" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM (SELECT CASE WHEN typeof("age") <> 'text' THEN +"age" WHEN CAST(CAST("age" AS NUMERIC) AS TEXT) = +"age" THEN CAST("age" AS NUMERIC) WHEN CAST(CAST("age" AS REAL) AS TEXT) = +"age" THEN CAST("age" AS REAL) ELSE +"age" END COLLATE BINARY, count(*) FROM "users" GROUP BY 1 EXCEPT SELECT CASE WHEN typeof("age") <> 'text' THEN +"age" WHEN CAST(CAST("age" AS NUMERIC) AS TEXT) = +"age" THEN CAST("age" AS NUMERIC) WHEN CAST(CAST("age" AS REAL) AS TEXT) = +"age" THEN CAST("age" AS REAL) ELSE +"age" END COLLATE BINARY, count(*) FROM "athanor_new_users" GROUP BY 1);
DROP TABLE athanor_guard;
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
        r#"-- WARNING: column users.age: type INTEGER -> TEXT (values are converted to the new type's affinity; the migration fails if that would change one)
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, age TEXT);
INSERT INTO "athanor_new_users" ("id", "age") SELECT "id", "age" FROM "users";
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "users.age: the new type would change stored values (e.g. '007' to 7); convert them first" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM (SELECT CASE WHEN typeof("age") <> 'text' THEN +"age" WHEN CAST(CAST("age" AS NUMERIC) AS TEXT) = +"age" THEN CAST("age" AS NUMERIC) WHEN CAST(CAST("age" AS REAL) AS TEXT) = +"age" THEN CAST("age" AS REAL) ELSE +"age" END COLLATE BINARY, count(*) FROM "users" GROUP BY 1 EXCEPT SELECT CASE WHEN typeof("age") <> 'text' THEN +"age" WHEN CAST(CAST("age" AS NUMERIC) AS TEXT) = +"age" THEN CAST("age" AS NUMERIC) WHEN CAST(CAST("age" AS REAL) AS TEXT) = +"age" THEN CAST("age" AS REAL) ELSE +"age" END COLLATE BINARY, count(*) FROM "athanor_new_users" GROUP BY 1);
DROP TABLE athanor_guard;
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
    );
}

#[test]
fn add_not_null() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        true,
        r#"-- WARNING: column users.name: NOT NULL added (rows where it is NULL make the migration fail)
-- column users.name: DEFAULT none -> ''
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "users.name becomes NOT NULL: rows where it is NULL need a value first" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM "users" WHERE "name" IS NULL;
DROP TABLE athanor_guard;
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
        r#"-- column users.name: NOT NULL dropped
-- column users.name: DEFAULT '' -> none
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
    );
}

#[test]
fn add_index() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE INDEX ix_users_name ON users (name);
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        false,
        r#"-- add index ix_users_name on users(name)
CREATE INDEX ix_users_name ON users (name);
"#,
        r#"-- drop index ix_users_name on users(name)
DROP INDEX "ix_users_name";
"#,
    );
}

#[test]
fn drop_index() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE UNIQUE INDEX ix_users_name ON users (name);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        false,
        r#"-- drop index ix_users_name (unique) on users(name)
DROP INDEX "ix_users_name";
"#,
        r#"-- WARNING: add index ix_users_name (unique) on users(name) (rows with duplicate keys make the migration fail)
CREATE UNIQUE INDEX ix_users_name ON users (name);
"#,
    );
}

#[test]
fn partial_and_expression_index() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE UNIQUE INDEX ix_users_lower ON users (lower(name)) WHERE name IS NOT NULL;
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        false,
        r#"-- WARNING: add index ix_users_lower (unique, partial, expression) on users(<expr>) (rows with duplicate keys make the migration fail)
CREATE UNIQUE INDEX ix_users_lower ON users (lower(name)) WHERE name IS NOT NULL;
"#,
        r#"-- drop index ix_users_lower (unique, partial, expression) on users(<expr>)
DROP INDEX "ix_users_lower";
"#,
    );
}

#[test]
fn add_foreign_key() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);
CREATE INDEX ix_posts_user ON posts (user_id);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, body TEXT);
CREATE INDEX ix_posts_user ON posts (user_id);
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob'); INSERT INTO posts VALUES (10, 1, 'hi'), (11, 2, 'yo');"#,
        true,
        r#"-- WARNING: table posts: foreign key added: (user_id) -> users(id) ON DELETE CASCADE (rows without a parent make the migration fail)
CREATE TABLE "athanor_new_posts" (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, body TEXT);
INSERT INTO "athanor_new_posts" ("id", "user_id", "body") SELECT "id", "user_id", "body" FROM "posts";
DROP TABLE "posts";
ALTER TABLE "athanor_new_posts" RENAME TO "posts";
CREATE INDEX ix_posts_user ON posts (user_id);
"#,
        r#"-- table posts: foreign key dropped: (user_id) -> users(id) ON DELETE CASCADE
CREATE TABLE "athanor_new_posts" (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);
INSERT INTO "athanor_new_posts" ("id", "user_id", "body") SELECT "id", "user_id", "body" FROM "posts";
DROP TABLE "posts";
ALTER TABLE "athanor_new_posts" RENAME TO "posts";
CREATE INDEX ix_posts_user ON posts (user_id);
"#,
    );
}

#[test]
fn view() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE VIEW named AS SELECT id, name FROM users WHERE name IS NOT NULL;
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        false,
        r#"-- add view named
CREATE VIEW named AS SELECT id, name FROM users WHERE name IS NOT NULL;
"#,
        r#"-- drop view named
DROP VIEW "named";
"#,
    );
}

#[test]
fn trigger() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE audit (user_id INTEGER, at TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE audit (user_id INTEGER, at TEXT);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id, 'now'); END;
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        false,
        r#"-- add trigger users_audit
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id, 'now'); END;
"#,
        r#"-- drop trigger users_audit
DROP TRIGGER "users_audit";
"#,
    );
}

#[test]
fn check_and_collate() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, CHECK (length(name) < 100));
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        true,
        r#"-- WARNING: column users.name: definition changed (COLLATE, CHECK, UNIQUE or generated expression)
-- WARNING: table users: constraint added: check ( length ( name ) < 100 ) (rows that violate it make the migration fail)
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, CHECK (length(name) < 100));
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
        r#"-- WARNING: column users.name: definition changed (COLLATE, CHECK, UNIQUE or generated expression)
-- table users: constraint dropped: check ( length ( name ) < 100 )
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
    );
}

#[test]
fn without_rowid_and_strict() {
    golden(
        r#"CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);
"#,
        r#"CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID, STRICT;
"#,
        r#"INSERT INTO kv VALUES ('a', '1'), ('b', '2');"#,
        true,
        r#"-- WARNING: column kv.k: NOT NULL added (rows where it is NULL make the migration fail)
-- WARNING: table kv: STRICT added
-- table kv: WITHOUT ROWID added
CREATE TABLE "athanor_new_kv" (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID, STRICT;
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "kv.k becomes NOT NULL: rows where it is NULL need a value first" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM "kv" WHERE "k" IS NULL;
DROP TABLE athanor_guard;
INSERT INTO "athanor_new_kv" ("k", "v") SELECT "k", "v" FROM "kv";
DROP TABLE "kv";
ALTER TABLE "athanor_new_kv" RENAME TO "kv";
"#,
        r#"-- column kv.k: NOT NULL dropped
-- table kv: STRICT dropped
-- table kv: WITHOUT ROWID dropped
CREATE TABLE "athanor_new_kv" (k TEXT PRIMARY KEY, v TEXT);
INSERT INTO "athanor_new_kv" ("k", "v") SELECT "k", "v" FROM "kv";
DROP TABLE "kv";
ALTER TABLE "athanor_new_kv" RENAME TO "kv";
"#,
    );
}

#[test]
fn autoincrement_and_generated() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, upper_name TEXT GENERATED ALWAYS AS (upper(name)) STORED);
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        true,
        r#"-- add column users.upper_name
-- table users: AUTOINCREMENT added
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, upper_name TEXT GENERATED ALWAYS AS (upper(name)) STORED);
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
        r#"-- WARNING: drop column users.upper_name (its data is deleted)
-- table users: AUTOINCREMENT dropped (its sqlite_sequence high-water mark goes: ids of deleted rows can be given out again)
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
"#,
    );
}

#[test]
fn autoincrement_rebuild_keeps_its_sequence() {
    golden(
        r#"CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
"#,
        r#"CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '');
"#,
        r#"INSERT INTO items (name) VALUES ('a'), ('b'), ('c'); DELETE FROM items WHERE id = 3;"#,
        true,
        r#"-- WARNING: column items.name: NOT NULL added (rows where it is NULL make the migration fail)
-- column items.name: DEFAULT none -> ''
CREATE TABLE "athanor_new_items" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '');
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "items.name becomes NOT NULL: rows where it is NULL need a value first" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM "items" WHERE "name" IS NULL;
DROP TABLE athanor_guard;
INSERT INTO "athanor_new_items" ("id", "name") SELECT "id", "name" FROM "items";
-- items keeps its AUTOINCREMENT high-water mark
DELETE FROM sqlite_sequence WHERE name = 'athanor_new_items';
UPDATE sqlite_sequence SET name = 'athanor_new_items' WHERE name = 'items';
DROP TABLE "items";
ALTER TABLE "athanor_new_items" RENAME TO "items";
"#,
        r#"-- column items.name: NOT NULL dropped
-- column items.name: DEFAULT '' -> none
CREATE TABLE "athanor_new_items" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
INSERT INTO "athanor_new_items" ("id", "name") SELECT "id", "name" FROM "items";
-- items keeps its AUTOINCREMENT high-water mark
DELETE FROM sqlite_sequence WHERE name = 'athanor_new_items';
UPDATE sqlite_sequence SET name = 'athanor_new_items' WHERE name = 'items';
DROP TABLE "items";
ALTER TABLE "athanor_new_items" RENAME TO "items";
"#,
    );
}

#[test]
fn rebuild_keeps_views_and_triggers() {
    golden(
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE VIEW v AS SELECT name FROM users;
CREATE TABLE audit (user_id INTEGER);
CREATE TRIGGER t AFTER DELETE ON users BEGIN INSERT INTO audit VALUES (old.id); END;
"#,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
CREATE VIEW v AS SELECT name FROM users;
CREATE TABLE audit (user_id INTEGER);
CREATE TRIGGER t AFTER DELETE ON users BEGIN INSERT INTO audit VALUES (old.id); END;
"#,
        r#"INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"#,
        true,
        r#"-- trigger t is created again after the table rebuild
DROP TRIGGER "t";
-- view v is created again after the table rebuild
DROP VIEW "v";
-- WARNING: column users.name: NOT NULL added (rows where it is NULL make the migration fail)
-- column users.name: DEFAULT none -> 'x'
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT "users.name becomes NOT NULL: rows where it is NULL need a value first" CHECK (n = 0));
INSERT INTO athanor_guard SELECT count(*) FROM "users" WHERE "name" IS NULL;
DROP TABLE athanor_guard;
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
CREATE VIEW v AS SELECT name FROM users;
CREATE TRIGGER t AFTER DELETE ON users BEGIN INSERT INTO audit VALUES (old.id); END;
"#,
        r#"-- trigger t is created again after the table rebuild
DROP TRIGGER "t";
-- view v is created again after the table rebuild
DROP VIEW "v";
-- column users.name: NOT NULL dropped
-- column users.name: DEFAULT 'x' -> none
CREATE TABLE "athanor_new_users" (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO "athanor_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
ALTER TABLE "athanor_new_users" RENAME TO "users";
CREATE VIEW v AS SELECT name FROM users;
CREATE TRIGGER t AFTER DELETE ON users BEGIN INSERT INTO audit VALUES (old.id); END;
"#,
    );
}

#[test]
fn layout_case_quoting_and_constraint_order_are_no_change() {
    let a = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, UNIQUE (name), CHECK (id > 0));\nCREATE INDEX ix ON users (name);";
    let b = "create table \"USERS\" (\n  ID integer primary key, -- the key\n  name text,\n  check (ID>0), unique(name)\n);\ncreate index IX on Users(Name);";
    assert!(autogen::generate(&schema(a), &schema(b)).is_none());
    // A column added by ALTER TABLE lands after the table constraints in SQLite's text;
    // declared before them, it is still the same table.
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (a INTEGER, CHECK (a > 0)); ALTER TABLE t ADD COLUMN b TEXT;").unwrap();
    let altered = Schema::read(&conn, &[]).unwrap();
    assert_eq!(altered, schema("CREATE TABLE t (a INTEGER, b TEXT, CHECK (a > 0));"));
}

#[test]
fn a_rebuild_that_breaks_a_foreign_key_fails_instead_of_committing() {
    let old = "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);";
    let new = "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));";
    let g = generated(old, new);
    let map = old_then_generated(old, &g);
    let conn = Connection::open_in_memory().unwrap();
    let engine = Engine::new(&conn, &map, Options::default());
    engine.upgrade("r1", &mut |_| {}).unwrap();
    conn.execute_batch("INSERT INTO users VALUES (1); INSERT INTO posts VALUES (10, 1), (11, 99);").unwrap();
    let e = engine.upgrade("heads", &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "MIGRATION_FAILED");
    assert!(e.to_string().contains("CHECK constraint failed"), "{e}");
    // The runner rolled the section's own transaction back; nothing of it stays.
    assert!(conn.is_autocommit());
    assert_eq!(Schema::read(&conn, OWN).unwrap(), schema(old));
    assert_eq!(engine.current_rows().unwrap(), ["r1"]);
}

#[test]
fn a_bad_declared_schema_is_a_parse_error_with_its_line() {
    let e = autogen::schema_of_sql("schema.sql", "CREATE TABLE a (x);\n\nCREATE TABLE a (y);\n").unwrap_err();
    assert_eq!(e.code(), "PARSE_ERROR");
    assert!(e.to_string().starts_with("schema.sql:3: table a already exists"), "{e}");
    let e = autogen::schema_of_sql("s.sql", "CREATE TABLE (;").unwrap_err();
    assert_eq!(e.code(), "PARSE_ERROR");
}

// ------------------------------------------------------------------ through the CLI

#[test]
fn cli_check_and_revision_autogenerate() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    assert_eq!(athanor(p, &["init"]).0, 0);
    // No schema file: an IO error naming it, with check's own status (3): 1 is kept for
    // a real difference, so CI can tell "needs a migration" from "could not compare".
    let (code, _, err) = athanor(p, &["check"]);
    assert_eq!((code, err.starts_with("FAILED [IO_ERROR]: schema file 'schema.sql' does not exist")), (3, true), "{err}");
    std::fs::write(p.join("schema.sql"), "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n").unwrap();
    let (code, out, err) = athanor(p, &["check"]);
    assert_eq!(code, 1);
    assert_eq!(out, "- add table users\n");
    assert_eq!(err, "FAILED [SCHEMA_DIFF]: New upgrade operations detected: add table users\n");

    let (code, out, err) = athanor(p, &["revision", "--autogenerate", "-m", "users", "--rev-id", "aaaa00000001"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "Generating migrations/aaaa00000001_users.sql ...  done\n", "INFO  [athanor] Detected add table users\n")
    );
    let text = std::fs::read_to_string(p.join("migrations/aaaa00000001_users.sql")).unwrap();
    assert!(text.ends_with("-- migrate:upgrade\n-- add table users\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n\n-- migrate:downgrade\n-- WARNING: drop table users (its rows are deleted)\nDROP TABLE \"users\";\n"), "{text}");
    assert_eq!(athanor(p, &["check"]), (0, "No new upgrade operations detected.\n".into(), String::new()));
    let (code, out, _) = athanor(p, &["revision", "--autogenerate", "-m", "nothing"]);
    assert_eq!((code, out.as_str()), (0, "No changes in schema detected.\n"));
    assert_eq!(std::fs::read_dir(p.join("migrations")).unwrap().count(), 1, "nothing written");

    // --db: the database must be at the heads; then it is what is compared.
    let (code, _, err) = athanor(p, &["--db", "app.db", "check"]);
    assert_eq!((code, err.as_str()), (3, "FAILED [NOT_UP_TO_DATE]: Target database is not up to date.\n"));
    assert!(!p.join("app.db").exists(), "check creates no database");
    assert_eq!(athanor(p, &["--db", "app.db", "upgrade", "head"]).0, 0);
    std::fs::write(p.join("other.sql"), "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);\n").unwrap();
    let (code, out, _) = athanor(p, &["--db", "app.db", "--schema", "other.sql", "check"]);
    assert_eq!((code, out.as_str()), (1, "- add column users.email\n"));
    // `schema = ...` in athanor.ini, overridden by --schema.
    let ini = std::fs::read_to_string(p.join("athanor.ini")).unwrap();
    std::fs::write(p.join("athanor.ini"), format!("{ini}schema = other.sql\n")).unwrap();
    assert_eq!(athanor(p, &["check"]).0, 1);
    assert_eq!(athanor(p, &["--schema", "schema.sql", "check"]).0, 0);
    // A declared schema SQLite refuses: a parse error with its line, not a panic.
    std::fs::write(p.join("bad.sql"), "CREATE TABLE a (x);\nCREATE TABLE a (x);\n").unwrap();
    let (code, _, err) = athanor(p, &["--schema", "bad.sql", "check"]);
    assert_eq!((code, err.starts_with("FAILED [PARSE_ERROR]: bad.sql:2: table a already exists")), (3, true), "{err}");
}
