//! Generated migrations on a database in use: what SQLite keeps beside the rows (an
//! AUTOINCREMENT table's `sqlite_sequence` high-water mark), columns that tables with
//! rows gain with a non-constant DEFAULT (`ALTER TABLE … ADD COLUMN` refuses them
//! there), and triggers on views (`INSTEAD OF`), which are compared like any other
//! schema object. One regression test per bug of issue 13.

mod common;

use athanor::autogen::{self, Generated, Schema};
use athanor::sqlite::runner::{Engine, Options};
use common::{old_then_generated, schema, OWN};
use rusqlite::Connection;

fn generated(old: &str, new: &str) -> Generated {
    autogen::generate(&schema(old), &schema(new)).expect("a change is detected")
}

/// `old` as revision r1 with `data` in it, then the generated r2 applied: it must
/// reach `new` with nothing left to generate. Returns the connection at r2.
fn upgraded(old: &str, new: &str, data: &str) -> (Connection, Generated) {
    let g = generated(old, new);
    let map = old_then_generated(old, &g);
    let conn = Connection::open_in_memory().unwrap();
    {
        let engine = Engine::new(&conn, &map, Options::default());
        engine.upgrade("r1", &mut |_| {}).unwrap();
        conn.execute_batch(data).unwrap();
        engine.upgrade("heads", &mut |_| {}).unwrap_or_else(|e| panic!("{e}\n{}", g.upgrade.sql));
    }
    let now = Schema::read(&conn, OWN).unwrap();
    assert_eq!(now, schema(new), "{}", g.upgrade.sql);
    assert!(autogen::generate(&now, &schema(new)).is_none(), "a second autogenerate finds nothing");
    (conn, g)
}

fn one<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> T {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

// ------------------------------------------------------------ AUTOINCREMENT high-water mark

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);";
const ITEMS_NOT_NULL: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);";

/// 50 rows, ids 11-50 deleted: AUTOINCREMENT never gives those ids again, and neither
/// may a rebuild of the table.
const FIFTY_THEN_TEN: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) INSERT INTO items (name) SELECT 'x' || i FROM n;\n\
                              DELETE FROM items WHERE id > 10;";

#[test]
fn a_rebuild_keeps_the_autoincrement_high_water_mark() {
    let (conn, g) = upgraded(ITEMS, ITEMS_NOT_NULL, FIFTY_THEN_TEN);
    assert!(!g.upgrade.transactional, "making a column NOT NULL is a rebuild");
    conn.execute("INSERT INTO items (name) VALUES ('next')", []).unwrap();
    assert_eq!(one::<i64>(&conn, "SELECT max(id) FROM items"), 51, "ids 11-50 are never used again");
    assert_eq!(one::<i64>(&conn, "SELECT count(*) FROM sqlite_sequence"), 1, "one row, under the table's own name");

    // Every row deleted: the table is empty, and still its mark stays.
    let (conn, _) = upgraded(ITEMS, ITEMS_NOT_NULL, &format!("{FIFTY_THEN_TEN}\nDELETE FROM items;"));
    conn.execute("INSERT INTO items (name) VALUES ('next')", []).unwrap();
    assert_eq!(one::<i64>(&conn, "SELECT id FROM items"), 51);

    // A mark the app set above every id (memos writes sqlite_sequence itself), and a
    // table renamed only in case: kept as well.
    let old = "CREATE TABLE Items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);";
    let (conn, _) =
        upgraded(old, ITEMS_NOT_NULL, "INSERT INTO Items (name) VALUES ('a'); UPDATE sqlite_sequence SET seq = 100 WHERE name = 'Items';");
    conn.execute("INSERT INTO items (name) VALUES ('next')", []).unwrap();
    assert_eq!(one::<i64>(&conn, "SELECT max(id) FROM items"), 101);
}

// ------------------------------------------------- columns added with a non-constant DEFAULT

#[test]
fn a_column_with_an_expression_default_is_added_to_a_table_with_rows() {
    let old = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);";
    for (default, check) in [
        ("created_at TEXT NOT NULL DEFAULT (datetime('now'))", "SELECT count(*) FROM notes WHERE created_at >= '2000'"),
        ("tag TEXT DEFAULT (lower('X'))", "SELECT count(*) FROM notes WHERE tag = 'x'"),
        ("at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP", "SELECT count(*) FROM notes WHERE at >= '2000'"),
        ("n INTEGER DEFAULT (1 + 1)", "SELECT count(*) FROM notes WHERE n = 2"),
    ] {
        let new = format!("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, {default});");
        let (conn, g) = upgraded(old, &new, "INSERT INTO notes (body) VALUES ('a'), ('b');");
        assert!(!g.upgrade.transactional, "{default}: ADD COLUMN refuses it on a table with rows, so a rebuild\n{}", g.upgrade.sql);
        assert_eq!(one::<i64>(&conn, check), 2, "{default}: both rows have the DEFAULT's value");
    }
    // A constant DEFAULT, even in parentheses or a CAST, stays an ADD COLUMN.
    for default in
        ["n INTEGER DEFAULT (-1)", "s TEXT NOT NULL DEFAULT ('x')", "c DEFAULT (CAST(1 AS TEXT))", "b BLOB DEFAULT x'00'", "t DEFAULT TRUE"]
    {
        let new = format!("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, {default});");
        let (_, g) = upgraded(old, &new, "INSERT INTO notes (body) VALUES ('a');");
        assert!(g.upgrade.sql.contains("ADD COLUMN"), "{default}:\n{}", g.upgrade.sql);
    }
}

// ---------------------------------------------------------------------- triggers on views

const VIEW: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\n\
                    CREATE VIEW names AS SELECT id, name FROM items;\n";
const INSTEAD: &str = "CREATE TRIGGER names_insert INSTEAD OF INSERT ON names BEGIN INSERT INTO items (name) VALUES (NEW.name); END;\n";

#[test]
fn a_trigger_on_a_view_is_compared_and_kept_when_its_view_changes() {
    // Dropped from schema.sql: detected, and dropped.
    let with = format!("{VIEW}{INSTEAD}");
    let (conn, g) = upgraded(&with, VIEW, "");
    assert_eq!(g.changes, ["drop trigger names_insert"]);
    assert!(conn.execute("INSERT INTO names (name) VALUES ('a')", []).is_err(), "the view is read-only again");

    // Its view changes, the trigger does not: DROP VIEW takes the trigger with it, so it
    // is created again.
    let changed = format!(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\nCREATE VIEW names AS SELECT id, name FROM items WHERE name IS NOT NULL;\n{INSTEAD}"
    );
    let (conn, g) = upgraded(&with, &changed, "");
    assert_eq!(g.changes, ["change view names"]);
    conn.execute("INSERT INTO names (name) VALUES ('a')", []).unwrap();

    // Both change: the trigger goes before its view does.
    let both = changed.replace("VALUES (NEW.name)", "VALUES (upper(NEW.name))");
    let (conn, _) = upgraded(&with, &both, "");
    conn.execute("INSERT INTO names (name) VALUES ('a')", []).unwrap();
    assert_eq!(one::<String>(&conn, "SELECT name FROM items"), "A");

    // Its view dropped too: the trigger goes with it, as a table's do.
    let (_, g) = upgraded(&with, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);", "");
    assert_eq!(g.changes, ["drop view names"]);
}
