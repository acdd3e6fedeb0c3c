//! Autogenerate on random schema pairs with random rows: the generated upgrade, run by
//! the real runner, reaches exactly the declared schema with the kept columns' rows
//! intact, and the downgrade returns exactly to the original schema.

use athanor::autogen::{self, Schema};
use athanor::core::graph::RevisionMap;
use athanor::core::script::{Script, Section};
use athanor::core::source::{from_fields, RevisionFields};
use athanor::sqlite::runner::{Engine, Options};
use proptest::prelude::*;
use rusqlite::Connection;

const OWN: &[&str] = &["alembic_version", "athanor_history"];
const TYPES: &[&str] = &["INTEGER", "TEXT", "NUMERIC", "BLOB", ""];

#[derive(Debug, Clone)]
struct Col {
    ty: usize,
    notnull: bool,
    unique: bool,
}

#[derive(Debug, Clone)]
struct Table {
    /// Columns c0..c3, each present or not (kept in name order, so a column can be
    /// added in the middle, which needs a rebuild).
    cols: Vec<Option<Col>>,
    without_rowid: bool,
    /// An index on the first present column: (unique, partial).
    index: Option<(bool, bool)>,
    view: bool,
}

fn col() -> impl Strategy<Value = Col> {
    (0..TYPES.len(), any::<bool>(), any::<bool>()).prop_map(|(ty, notnull, unique)| Col { ty, notnull, unique: unique && !notnull })
}

fn table() -> impl Strategy<Value = Table> {
    (prop::collection::vec(prop::option::weighted(0.6, col()), 4), any::<bool>(), prop::option::of((any::<bool>(), any::<bool>())), any::<bool>())
        .prop_map(|(cols, without_rowid, index, view)| Table { cols, without_rowid, index, view })
}

fn schema_sql() -> impl Strategy<Value = Vec<Option<Table>>> {
    prop::collection::vec(prop::option::weighted(0.7, table()), 3)
}

fn render(tables: &[Option<Table>]) -> String {
    let mut s = String::new();
    for (i, t) in tables.iter().enumerate() {
        let Some(t) = t else { continue };
        let mut defs = vec!["id INTEGER PRIMARY KEY".to_string()];
        for (j, c) in t.cols.iter().enumerate() {
            let Some(c) = c else { continue };
            let mut d = format!("c{j} {}", TYPES[c.ty]).trim_end().to_string();
            if c.notnull {
                // NOT NULL needs a default so that rows can gain the column.
                d.push_str(" NOT NULL DEFAULT 0");
            }
            if c.unique {
                d.push_str(" UNIQUE");
            }
            defs.push(d);
        }
        s.push_str(&format!("CREATE TABLE t{i} ({}){};\n", defs.join(", "), if t.without_rowid { " WITHOUT ROWID" } else { "" }));
        if let (Some((unique, partial)), Some(j)) = (t.index, t.cols.iter().position(Option::is_some)) {
            let (unique, partial) = (unique && !t.cols[j].as_ref().unwrap().notnull, partial);
            s.push_str(&format!(
                "CREATE {}INDEX ix{i} ON t{i} (c{j}){};\n",
                if unique { "UNIQUE " } else { "" },
                if partial { format!(" WHERE c{j} IS NOT NULL") } else { String::new() }
            ));
        }
        if t.view {
            s.push_str(&format!("CREATE VIEW v{i} AS SELECT id FROM t{i};\n"));
        }
    }
    s
}

/// Rows for the original schema: distinct non-NULL integers (valid in every generated
/// column type, and never colliding with a UNIQUE).
fn data(tables: &[Option<Table>], rows: &[usize]) -> String {
    let mut s = String::new();
    for (i, t) in tables.iter().enumerate() {
        let Some(t) = t else { continue };
        for r in 0..rows[i] {
            let mut names = vec!["id".to_string()];
            let mut vals = vec![(r + 1).to_string()];
            for (j, c) in t.cols.iter().enumerate() {
                if c.is_some() {
                    names.push(format!("c{j}"));
                    vals.push((r * 10 + j + 100).to_string());
                }
            }
            s.push_str(&format!("INSERT INTO t{i} ({}) VALUES ({});\n", names.join(", "), vals.join(", ")));
        }
    }
    s
}

fn script(id: &str, parent: Option<&str>, up: Section, down: Section) -> Script {
    let mut s = from_fields(RevisionFields {
        revision: id.into(),
        revises: parent.map(|p| vec![p.to_string()]).unwrap_or_default(),
        message: id.into(),
        downgrade: Some(String::new()),
        ..Default::default()
    })
    .unwrap();
    s.upgrade = up;
    s.downgrade = Some(down);
    s
}

fn kept_rows(conn: &Connection, a: &Schema, b: &Schema) -> Vec<Vec<String>> {
    let mut out = vec![];
    for (k, t) in &a.tables {
        let Some(u) = b.tables.get(k) else { continue };
        let cols: Vec<String> = t.columns.iter().filter(|c| u.column(&c.name).is_some()).map(|c| format!("quote(CAST({} AS TEXT))", c.name)).collect();
        let mut st = conn.prepare(&format!("SELECT {} FROM {}", cols.join(" || '|' || "), t.name)).unwrap();
        let mut v: Vec<String> = st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect();
        v.sort();
        out.push(v);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn upgrade_reaches_the_declared_schema_and_downgrade_returns(old in schema_sql(), new in schema_sql(), rows in prop::collection::vec(0usize..4, 3)) {
        let (old_sql, new_sql) = (render(&old), render(&new));
        let (a, b) = (autogen::schema_of_sql("old.sql", &old_sql).unwrap(), autogen::schema_of_sql("new.sql", &new_sql).unwrap());
        let Some(g) = autogen::generate(&a, &b) else {
            prop_assert_eq!(&a, &b);
            return Ok(());
        };
        let sec = |r: &autogen::Rendered| Section { sql: r.sql.clone(), first_line: 1, transactional: r.transactional };
        let map = RevisionMap::new(vec![
            script("r1", None, Section::new(old_sql.clone()), Section::new("")),
            script("r2", Some("r1"), sec(&g.upgrade), sec(&g.downgrade)),
        ]).unwrap();
        let conn = Connection::open_in_memory().unwrap();
        let engine = Engine::new(&conn, &map, Options::default());
        engine.upgrade("r1", &mut |_| {}).unwrap();
        conn.execute_batch(&data(&old, &rows)).unwrap();
        let before = kept_rows(&conn, &a, &b);
        let up = engine.upgrade("heads", &mut |_| {});
        prop_assert!(up.is_ok(), "upgrade failed: {:?}\n{}\n--> {}\n{}", up.err(), old_sql, new_sql, g.upgrade.sql);
        prop_assert_eq!(&Schema::read(&conn, OWN).unwrap(), &b, "after upgrade:\n{}", g.upgrade.sql);
        prop_assert_eq!(&kept_rows(&conn, &a, &b), &before);
        let down = engine.downgrade("r1", &mut |_| {});
        prop_assert!(down.is_ok(), "downgrade failed: {:?}\n{}", down.err(), g.downgrade.sql);
        prop_assert_eq!(&Schema::read(&conn, OWN).unwrap(), &a, "after downgrade:\n{}", g.downgrade.sql);
        prop_assert_eq!(&kept_rows(&conn, &a, &b), &before);
        let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        prop_assert_eq!(ok, "ok");
    }
}
