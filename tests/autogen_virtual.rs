//! Virtual tables and TEMP objects in a declared schema. FTS5 and R*Tree tables are
//! compared by their CREATE text; the shadow tables their modules create (`docs_data`,
//! `geo_node`...) are the module's business and never show up as tables of their own.
//! A TEMP object is not part of a database's schema: declaring one is refused with the
//! line that declares it.

mod common;

use athanor::autogen::{self, Schema};
use athanor::sqlite::runner::{Engine, Options};
use common::{old_then_generated, schema, OWN};
use rusqlite::Connection;

/// `old` as r1 with `data`, the generated r2 up (reaching `new`) and down (back to
/// `old`); returns the connection at r2 and the generated text.
fn round_trip(old: &str, new: &str, data: &str) -> (Connection, autogen::Generated) {
    let g = autogen::generate(&schema(old), &schema(new)).expect("a change");
    let map = old_then_generated(old, &g);
    let conn = Connection::open_in_memory().unwrap();
    {
        let engine = Engine::new(&conn, &map, Options::default());
        engine.upgrade("r1", &mut |_| {}).unwrap();
        conn.execute_batch(data).unwrap();
        engine.upgrade("heads", &mut |_| {}).unwrap_or_else(|e| panic!("{e}\n{}", g.upgrade.sql));
        assert_eq!(Schema::read(&conn, OWN).unwrap(), schema(new), "after upgrade");
        engine.downgrade("r1", &mut |_| {}).unwrap_or_else(|e| panic!("{e}\n{}", g.downgrade.sql));
        assert_eq!(Schema::read(&conn, OWN).unwrap(), schema(old), "after downgrade");
        engine.upgrade("heads", &mut |_| {}).unwrap();
    }
    (conn, g)
}

const POSTS: &str = "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);\n";
const FTS: &str = "CREATE VIRTUAL TABLE docs USING fts5(title, body);\n";
const RTREE: &str = "CREATE VIRTUAL TABLE geo USING rtree(id, min_x, max_x, min_y, max_y);\n";

#[test]
fn shadow_tables_are_not_tables_of_the_schema() {
    let s = schema(&format!("{POSTS}{FTS}{RTREE}"));
    let names: Vec<&str> = s.tables.values().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["docs", "geo", "posts"]);
    assert!(s.tables["docs"].virtual_table && s.tables["geo"].virtual_table);
    assert!(s.indexes.is_empty(), "{:?}", s.indexes.keys().collect::<Vec<_>>());
    // The same declaration, laid out differently, is no change.
    let again = schema("create virtual table DOCS using fts5(title, body);\ncreate virtual table geo using rtree(id,min_x,max_x,min_y,max_y);\nCREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);");
    assert!(autogen::generate(&s, &again).is_none());
}

#[test]
fn adding_fts5_and_rtree_tables_creates_them_alone() {
    let (conn, g) = round_trip(POSTS, &format!("{POSTS}{FTS}{RTREE}"), "INSERT INTO posts VALUES (1, 'a', 'b');");
    assert_eq!(g.changes, ["add table docs", "add table geo"]);
    assert_eq!(
        g.upgrade.sql,
        "-- add table docs\nCREATE VIRTUAL TABLE docs USING fts5(title, body);\n-- add table geo\nCREATE VIRTUAL TABLE geo USING rtree(id, min_x, max_x, min_y, max_y);\n"
    );
    assert_eq!(
        g.downgrade.sql,
        "-- WARNING: drop table docs (its rows are deleted)\nDROP TABLE \"docs\";\n-- WARNING: drop table geo (its rows are deleted)\nDROP TABLE \"geo\";\n"
    );
    // They work: the modules made their shadow tables.
    conn.execute_batch("INSERT INTO docs VALUES ('hello', 'world'); INSERT INTO geo VALUES (1, 0, 1, 0, 1);").unwrap();
    let hits: i64 = conn.query_row("SELECT count(*) FROM docs WHERE docs MATCH 'world'", [], |r| r.get(0)).unwrap();
    assert_eq!(hits, 1);
}

#[test]
fn a_changed_virtual_table_is_dropped_and_created_again_with_a_warning() {
    let new = "CREATE VIRTUAL TABLE docs USING fts5(title, body, tags);\n";
    let (_, g) = round_trip(FTS, new, "INSERT INTO docs VALUES ('hello', 'world');");
    assert_eq!(g.changes, ["change virtual table docs (dropped and created again; its rows are deleted)"]);
    assert_eq!(
        g.upgrade.sql,
        "-- WARNING: change virtual table docs (dropped and created again; its rows are deleted)\nDROP TABLE \"docs\";\nCREATE VIRTUAL TABLE docs USING fts5(title, body, tags);\n"
    );
}

#[test]
fn an_external_content_index_and_its_triggers_survive_a_rebuild_of_the_content_table() {
    let fts = "CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content='posts', content_rowid='id');\n\
               CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN INSERT INTO posts_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END;\n";
    let old = format!("{POSTS}{fts}");
    let new = format!("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', body TEXT);\n{fts}");
    let (conn, g) = round_trip(&old, &new, "INSERT INTO posts VALUES (1, 'hello', 'world');");
    assert!(!g.upgrade.transactional, "posts is rebuilt");
    assert!(!g.upgrade.sql.contains("DROP TABLE \"posts_fts\""), "{}", g.upgrade.sql);
    conn.execute_batch("INSERT INTO posts VALUES (2, 'second', 'post');").unwrap();
    let hits: i64 = conn.query_row("SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'post'", [], |r| r.get(0)).unwrap();
    assert_eq!(hits, 1, "the trigger, created again, still feeds the index");
}

#[test]
fn temp_objects_in_a_declared_schema_are_refused_with_their_line() {
    for (sql, line, what) in [
        ("CREATE TABLE a (x);\nCREATE TEMP TABLE scratch (y);\n", 2, "table scratch"),
        ("CREATE TABLE a (x);\n\nCREATE TEMPORARY VIEW v AS SELECT x FROM a;\n", 3, "view v"),
        ("CREATE TABLE a (x);\nCREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\n", 2, "trigger t"),
        ("CREATE TABLE temp.b (y);\n", 1, "table b"),
    ] {
        let e = autogen::schema_of_sql("schema.sql", sql).unwrap_err();
        assert_eq!(e.code(), "PARSE_ERROR");
        assert_eq!(
            e.to_string(),
            format!(
                "schema.sql:{line}: TEMP {what} is not part of the database's schema (declare it without TEMP, or create it when the app connects)"
            )
        );
    }
}
