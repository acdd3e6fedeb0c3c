//! Autogenerate against real migration histories (tests/fixtures/corpus): the schema after
//! revision N, dumped as SQL, is the declared schema; a database migrated to N−k gets
//! the generated upgrade, which must bring it exactly to N's schema, and the generated
//! downgrade must bring it back to N−k's.
//!
//! Override the corpus location with `ATHANOR_CORPUS=/path/to/corpus`.

mod common;

use athanor::autogen::{self, Schema};
use athanor::cli::NativeHost;
use athanor::core::graph::RevisionMap;
use athanor::core::statements::split_statements;
use athanor::core::walk::Spec;
use athanor::sqlite::runner::{execute_one, Engine, Options};
use common::{corpus, OWN};
use rusqlite::Connection;

fn versions(project: &str) -> String {
    let root = corpus();
    root.join(project).join("versions").to_string_lossy().into_owned()
}

/// A database migrated to `rev`.
fn at(map: &RevisionMap, rev: &str) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    Engine::new(&conn, map, Options::default()).upgrade(rev, &mut |_| {}).unwrap_or_else(|e| panic!("upgrade to {rev}: {e}"));
    conn
}

/// The schema as a `schema.sql` a developer would write: every CREATE text, tables first.
fn dump(conn: &Connection) -> String {
    let mut st = conn
        .prepare(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             AND tbl_name NOT IN ('alembic_version', 'athanor_history') \
             ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid",
        )
        .unwrap();
    let texts: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    texts.iter().map(|t| format!("{t};\n")).collect()
}

/// Runs a generated section as the runner would (its own transaction unless it opts out).
fn apply(conn: &Connection, r: &autogen::Rendered) {
    let wrap = r.transactional;
    if wrap {
        conn.execute_batch("BEGIN").unwrap();
    }
    for st in split_statements(&r.sql, 1) {
        execute_one(conn, &st.sql).unwrap_or_else(|e| panic!("{e} in {}\n---\n{}", st.code(), r.sql));
    }
    if wrap {
        conn.execute_batch("COMMIT").unwrap();
    }
}

fn check_project(project: &str) -> usize {
    let map = athanor::cli::commands::load_map(&NativeHost, &versions(project)).unwrap();
    let mut order: Vec<String> =
        map.walk_revisions(&Spec::Expr("base".into()), &Spec::Expr("heads".into())).unwrap().into_iter().map(|r| map.id(r).to_string()).collect();
    order.reverse(); // oldest first
    let mut checked = 0;
    for n in 1..order.len() {
        let declared_sql = dump(&at(&map, &order[n]));
        let declared = autogen::schema_of_sql("schema.sql", &declared_sql).unwrap();
        for k in [1, 2, n] {
            if k > n {
                continue;
            }
            let conn = at(&map, &order[n - k]);
            let before = Schema::read(&conn, OWN).unwrap();
            let Some(g) = autogen::generate(&before, &declared) else {
                // Only a revision that changes no schema (data, or nothing) may give nothing.
                assert_eq!(before, declared, "{project} {} -> {}", order[n - k], order[n]);
                continue;
            };
            apply(&conn, &g.upgrade);
            assert_eq!(Schema::read(&conn, OWN).unwrap(), declared, "{project}: {} -> {}\n{}", order[n - k], order[n], g.upgrade.sql);
            apply(&conn, &g.downgrade);
            assert_eq!(Schema::read(&conn, OWN).unwrap(), before, "{project}: back to {}\n{}", order[n - k], g.downgrade.sql);
            checked += 1;
        }
    }
    checked
}

#[test]
fn atuin_revisions_are_reached_from_earlier_ones() {
    assert!(check_project("atuin") >= 10);
}

#[test]
fn flipt_revisions_are_reached_from_earlier_ones() {
    assert!(check_project("flipt") >= 10);
}

#[test]
fn atuin_server_and_scripts_revisions_are_reached_from_earlier_ones() {
    assert!(check_project("atuin-server-sqlite") >= 10);
    assert!(check_project("atuin-scripts") >= 2);
}

#[test]
fn vaultwarden_revisions_are_reached_from_earlier_ones() {
    assert!(check_project("vaultwarden") >= 100);
}
