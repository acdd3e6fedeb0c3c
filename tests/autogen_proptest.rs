//! Autogenerate on random schema pairs with random rows: the generated upgrade, run by
//! the real runner, reaches exactly the declared schema with the kept columns' rows
//! intact, every AUTOINCREMENT table's `sqlite_sequence` high-water mark kept (its
//! rows were deleted and inserted again, so the mark is above the highest id),
//! `foreign_key_check` empty and `integrity_check` ok, and nothing left for a second
//! autogenerate; the downgrade returns exactly to the original schema, the same way.
//! Where the declared schema adds a NOT NULL column without a DEFAULT to a table with
//! rows, the upgrade instead fails with the guard's message and changes nothing.
//!
//! The schemas cover what autogenerate detects: column types, NOT NULL, DEFAULT
//! (constant, and expressions and CURRENT_TIMESTAMP, which ADD COLUMN refuses on a
//! table with rows), UNIQUE, generated columns (VIRTUAL and STORED), foreign keys with
//! ON DELETE / ON UPDATE actions, AUTOINCREMENT, indexes (unique, partial, expression),
//! views with and without INSTEAD OF triggers, triggers, WITHOUT ROWID and STRICT.

mod common;

use athanor::autogen::{self, Schema};
use athanor::core::graph::RevisionMap;
use athanor::core::script::Section;
use athanor::sqlite::runner::{Engine, Options};
use common::{script, OWN};
use proptest::prelude::*;
use rusqlite::Connection;

const TYPES: &[&str] = &["INTEGER", "TEXT", "NUMERIC", "BLOB", ""];
/// A STRICT table's spelling of each type: every column needs one, and the rows'
/// integers must fit it (a STRICT BLOB column refuses them).
const STRICT_TYPES: &[&str] = &["INTEGER", "TEXT", "REAL", "ANY", "ANY"];
const ACTIONS: &[&str] = &["", " ON DELETE CASCADE", " ON DELETE SET NULL", " ON UPDATE CASCADE", " ON DELETE RESTRICT ON UPDATE SET NULL"];
const TABLES: usize = 3;
/// Non-constant defaults; the text ones only where a STRICT column can hold text.
const EXPR_DEFAULTS: &[&str] = &["(abs(-7))", "(lower('X'))", "CURRENT_TIMESTAMP"];
/// INSTEAD OF triggers on a table's view.
const INSTEAD: &[&str] =
    &["INSERT ON v{i} BEGIN INSERT INTO t{i} (id) VALUES (NEW.id); END", "DELETE ON v{i} BEGIN DELETE FROM t{i} WHERE id = OLD.id; END"];

#[derive(Debug, Clone)]
enum Null {
    Nullable,
    /// NOT NULL DEFAULT 0: rows can gain the column.
    WithDefault,
    /// NOT NULL without a DEFAULT: added to a table with rows, the upgrade must fail.
    NoDefault,
    /// A non-constant DEFAULT (`EXPR_DEFAULTS`), NOT NULL or not: rows gain the
    /// column through a rebuild.
    Expr(usize, bool),
}

#[derive(Debug, Clone)]
struct Col {
    ty: usize,
    null: Null,
    unique: bool,
}

#[derive(Debug, Clone)]
struct Index {
    unique: bool,
    partial: bool,
    expression: bool,
}

#[derive(Debug, Clone)]
struct Table {
    /// Columns c0..c3, each present or not (kept in name order, so a column can be
    /// added in the middle, which needs a rebuild).
    cols: Vec<Option<Col>>,
    /// `g`, computed from `id`: Some(stored).
    generated: Option<bool>,
    /// `p`, referencing the previous table's `id` (when that table exists), with an action.
    fk: Option<usize>,
    without_rowid: bool,
    strict: bool,
    /// An index on the first present column.
    index: Option<Index>,
    /// `id INTEGER PRIMARY KEY AUTOINCREMENT` (never with WITHOUT ROWID, which refuses it).
    autoincrement: bool,
    view: bool,
    /// An INSTEAD OF trigger on the view (`INSTEAD`).
    instead: Option<usize>,
    trigger: bool,
}

fn col() -> impl Strategy<Value = Col> {
    let null = prop_oneof![
        6 => Just(Null::Nullable),
        3 => Just(Null::WithDefault),
        1 => Just(Null::NoDefault),
        2 => (0..EXPR_DEFAULTS.len(), any::<bool>()).prop_map(|(k, notnull)| Null::Expr(k, notnull)),
    ];
    (0..TYPES.len(), null, any::<bool>()).prop_map(|(ty, null, unique)| {
        // A column rows gain with one shared value (DEFAULT 0) cannot be UNIQUE.
        let unique = unique && matches!(null, Null::Nullable);
        Col { ty, null, unique }
    })
}

fn index() -> impl Strategy<Value = Index> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(unique, partial, expression)| Index { unique, partial, expression })
}

fn table() -> impl Strategy<Value = Table> {
    (
        prop::collection::vec(prop::option::weighted(0.6, col()), 4),
        prop::option::weighted(0.3, any::<bool>()),
        prop::option::weighted(0.4, 0..ACTIONS.len()),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.25),
        prop::option::of(index()),
        any::<bool>(),
        prop::bool::weighted(0.3),
        (prop::bool::weighted(0.4), prop::option::weighted(0.5, 0..INSTEAD.len())),
    )
        .prop_map(|(cols, generated, fk, without_rowid, strict, index, view, trigger, (autoincrement, instead))| Table {
            cols,
            generated,
            fk,
            without_rowid,
            strict,
            index,
            autoincrement: autoincrement && !without_rowid,
            view,
            instead,
            trigger,
        })
}

fn schema() -> impl Strategy<Value = Vec<Option<Table>>> {
    prop::collection::vec(prop::option::weighted(0.75, table()), TABLES)
}

/// Whether table `i` has its foreign key: declared, and its parent exists.
fn has_fk(tables: &[Option<Table>], i: usize) -> Option<usize> {
    let action = tables[i].as_ref()?.fk?;
    (i > 0 && tables[i - 1].is_some()).then_some(action)
}

fn render(tables: &[Option<Table>]) -> String {
    let mut s = String::new();
    for (i, t) in tables.iter().enumerate() {
        let Some(t) = t else { continue };
        let types = if t.strict { STRICT_TYPES } else { TYPES };
        let mut defs = vec![format!("id INTEGER PRIMARY KEY{}", if t.autoincrement { " AUTOINCREMENT" } else { "" })];
        for (j, c) in t.cols.iter().enumerate() {
            let Some(c) = c else { continue };
            let mut d = format!("c{j} {}", types[c.ty]).trim_end().to_string();
            match c.null {
                Null::Nullable => {}
                Null::WithDefault => d.push_str(" NOT NULL DEFAULT 0"),
                Null::NoDefault => d.push_str(" NOT NULL"),
                Null::Expr(k, notnull) => {
                    // A STRICT INTEGER or REAL column refuses text.
                    let k = if t.strict && (c.ty == 0 || c.ty == 2) { 0 } else { k };
                    d.push_str(&format!("{} DEFAULT {}", if notnull { " NOT NULL" } else { "" }, EXPR_DEFAULTS[k]));
                }
            }
            if c.unique {
                d.push_str(" UNIQUE");
            }
            defs.push(d);
        }
        if let Some(stored) = t.generated {
            defs.push(format!("g INTEGER GENERATED ALWAYS AS (id * 2) {}", if stored { "STORED" } else { "VIRTUAL" }));
        }
        if let Some(action) = has_fk(tables, i) {
            defs.push(format!("p INTEGER REFERENCES t{}(id){}", i - 1, ACTIONS[action]));
        }
        let mut options = vec![];
        if t.without_rowid {
            options.push("WITHOUT ROWID");
        }
        if t.strict {
            options.push("STRICT");
        }
        s.push_str(&format!("CREATE TABLE t{i} ({}) {};\n", defs.join(", "), options.join(", ")));
        let first = t.cols.iter().position(Option::is_some);
        if let (Some(ix), Some(j)) = (&t.index, first) {
            let c = t.cols[j].as_ref().unwrap();
            let unique = ix.unique && matches!(c.null, Null::Nullable);
            let key = if ix.expression { format!("(c{j} * 2)") } else { format!("c{j}") };
            let partial = if ix.partial { format!(" WHERE c{j} IS NOT NULL") } else { String::new() };
            s.push_str(&format!("CREATE {}INDEX ix{i} ON t{i} ({key}){partial};\n", if unique { "UNIQUE " } else { "" }));
        }
        if t.view {
            let cols = first.map(|j| format!(", c{j}")).unwrap_or_default();
            s.push_str(&format!("CREATE VIEW v{i} AS SELECT id{cols} FROM t{i};\n"));
            if let Some(k) = t.instead {
                s.push_str(&format!("CREATE TRIGGER vt{i} INSTEAD OF {};\n", INSTEAD[k].replace("{i}", &i.to_string())));
            }
        }
        if t.trigger {
            let when = first.map(|j| format!(" WHEN NEW.c{j} IS NOT NULL")).unwrap_or_default();
            s.push_str(&format!("CREATE TRIGGER tr{i} AFTER UPDATE ON t{i}{when} BEGIN SELECT NEW.id; END;\n"));
        }
    }
    s
}

/// Rows for the original schema: distinct non-NULL integers (valid in every column
/// type, and never colliding with a UNIQUE); `p` names an existing parent row. An
/// AUTOINCREMENT table's rows then churn as an app's do: a row inserted and deleted,
/// one inserted again (it gets a new id, never the deleted one's), and one more
/// inserted and deleted, which leaves the high-water mark above every id.
fn data(tables: &[Option<Table>], rows: &[usize]) -> String {
    let mut s = String::new();
    for (i, t) in tables.iter().enumerate() {
        let Some(t) = t else { continue };
        let row = |r: usize, id: bool| {
            let (mut names, mut vals) = if id { (vec!["id".to_string()], vec![(r + 1).to_string()]) } else { (vec![], vec![]) };
            for (j, c) in t.cols.iter().enumerate() {
                if c.is_some() {
                    names.push(format!("c{j}"));
                    vals.push((r * 10 + j + 100).to_string());
                }
            }
            if has_fk(tables, i).is_some() {
                names.push("p".into());
                vals.push(if rows[i - 1] == 0 { "NULL".into() } else { (r % rows[i - 1] + 1).to_string() });
            }
            if names.is_empty() {
                format!("INSERT INTO t{i} DEFAULT VALUES;\n")
            } else {
                format!("INSERT INTO t{i} ({}) VALUES ({});\n", names.join(", "), vals.join(", "))
            }
        };
        for r in 0..rows[i] {
            s.push_str(&row(r, true));
        }
        if t.autoincrement {
            let last = format!("DELETE FROM t{i} WHERE id = (SELECT max(id) FROM t{i});\n");
            let n = rows[i];
            for step in [row(n, false), last.clone(), row(n, false), row(n + 1, false), last] {
                s.push_str(&step);
            }
        }
    }
    s
}

/// Each AUTOINCREMENT table's `sqlite_sequence` value, by table.
fn sequences(conn: &Connection) -> Vec<(String, i64)> {
    let mut st = conn.prepare("SELECT name, seq FROM sqlite_sequence ORDER BY name").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

/// The sequences of the tables that are AUTOINCREMENT in both schemas: what a rebuild
/// must keep.
fn kept_sequences(conn: &Connection, a: &Schema, b: &Schema) -> Vec<(String, i64)> {
    let exists: bool = conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'", [], |r| r.get(0)).unwrap();
    if !exists {
        return vec![];
    }
    sequences(conn)
        .into_iter()
        .filter(|(n, _)| a.tables.get(n).is_some_and(|t| t.autoincrement) && b.tables.get(n).is_some_and(|t| t.autoincrement))
        .collect()
}

/// Rows per table (0 for a table the schema lacks).
fn counts(conn: &Connection, tables: &[Option<Table>]) -> Vec<usize> {
    (0..TABLES)
        .map(|i| {
            if tables[i].is_some() {
                conn.query_row(&format!("SELECT count(*) FROM t{i}"), [], |r| r.get::<_, i64>(0)).unwrap() as usize
            } else {
                0
            }
        })
        .collect()
}

/// The values of the columns both schemas keep (generated ones aside), per table. The
/// rows hold integers, which a type change may store as text or real: compared as
/// the integers they are.
fn kept_rows(conn: &Connection, a: &Schema, b: &Schema) -> Vec<Vec<String>> {
    let mut out = vec![];
    for (k, t) in &a.tables {
        let Some(u) = b.tables.get(k) else { continue };
        let cols: Vec<String> = t
            .columns
            .iter()
            .filter(|c| !c.generated() && u.column(&c.name).is_some_and(|x| !x.generated()))
            .map(|c| format!("quote(CAST({} AS INTEGER))", c.name))
            .collect();
        let mut st = conn.prepare(&format!("SELECT {} FROM {}", cols.join(" || '|' || "), t.name)).unwrap();
        let mut v: Vec<String> = st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect();
        v.sort();
        out.push(v);
    }
    out
}

fn healthy(conn: &Connection) -> (i64, String) {
    let fk: i64 = conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    (fk, ok)
}

/// Whether the declared schema adds a NOT NULL column without a DEFAULT to a table
/// that has rows (the one case the upgrade must refuse).
fn needs_values(old: &[Option<Table>], new: &[Option<Table>], rows: &[usize]) -> bool {
    (0..TABLES).any(|i| {
        let (Some(a), Some(b)) = (&old[i], &new[i]) else { return false };
        rows[i] > 0 && b.cols.iter().zip(&a.cols).any(|(n, o)| matches!(n, Some(Col { null: Null::NoDefault, .. })) && o.is_none())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn upgrade_reaches_the_declared_schema_and_downgrade_returns(old in schema(), new in schema(), rows in prop::collection::vec(prop_oneof![1 => Just(0usize), 5 => 1usize..4], TABLES)) {
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
        let marks = kept_sequences(&conn, &a, &b);
        let refused = needs_values(&old, &new, &counts(&conn, &old));
        let up = engine.upgrade("heads", &mut |_| {});
        if refused {
            let e = up.expect_err("a NOT NULL column without a DEFAULT on a table with rows");
            prop_assert!(e.to_string().contains("is added NOT NULL without a DEFAULT: existing rows need a value"), "{}\n{}", e, g.upgrade.sql);
            prop_assert_eq!(&Schema::read(&conn, OWN).unwrap(), &a);
            prop_assert_eq!(&kept_rows(&conn, &a, &b), &before);
            prop_assert_eq!(&kept_sequences(&conn, &a, &b), &marks);
            prop_assert_eq!(engine.current_rows().unwrap(), ["r1"]);
            return Ok(());
        }
        prop_assert!(up.is_ok(), "upgrade failed: {:?}\n{}\n--> {}\n{}", up.err(), old_sql, new_sql, g.upgrade.sql);
        let now = Schema::read(&conn, OWN).unwrap();
        prop_assert_eq!(&now, &b, "after upgrade:\n{}", g.upgrade.sql);
        prop_assert!(autogen::generate(&now, &b).is_none(), "a second autogenerate finds more:\n{}", g.upgrade.sql);
        prop_assert_eq!(&kept_rows(&conn, &a, &b), &before);
        prop_assert_eq!(&kept_sequences(&conn, &a, &b), &marks, "ids would be given out again:\n{}", g.upgrade.sql);
        prop_assert_eq!(healthy(&conn), (0, "ok".to_string()));
        let down = engine.downgrade("r1", &mut |_| {});
        // Back down, a column the upgrade dropped returns NOT NULL without a DEFAULT:
        // it has no values for the rows, and the downgrade refuses in the same way.
        if let Err(e) = &down {
            prop_assert!(needs_values(&new, &old, &counts(&conn, &new)), "downgrade failed: {}\n{}", e, g.downgrade.sql);
            prop_assert!(e.to_string().contains("is added NOT NULL without a DEFAULT: existing rows need a value"), "{}", e);
            prop_assert_eq!(&Schema::read(&conn, OWN).unwrap(), &b);
            return Ok(());
        }
        let now = Schema::read(&conn, OWN).unwrap();
        prop_assert_eq!(&now, &a, "after downgrade:\n{}", g.downgrade.sql);
        prop_assert!(autogen::generate(&now, &a).is_none(), "a second autogenerate finds more:\n{}", g.downgrade.sql);
        prop_assert_eq!(&kept_rows(&conn, &a, &b), &before);
        prop_assert_eq!(&kept_sequences(&conn, &a, &b), &marks, "ids would be given out again:\n{}", g.downgrade.sql);
        prop_assert_eq!(healthy(&conn), (0, "ok".to_string()));
    }
}
