//! SQL for a list of changes. Statements come in an order SQLite accepts: triggers and
//! views that may name what changes are dropped first, then indexes, tables, and
//! everything is created again last. A changed view's triggers are dropped and created
//! again with it, as `DROP VIEW` takes them along.
//!
//! Table changes SQLite's `ALTER TABLE` cannot make are done by the rebuild documented
//! at <https://sqlite.org/lang_altertable.html#otheralter>: create the new table under
//! a temporary name, copy the kept columns, drop the old table, rename the new one, and
//! create its indexes again; an AUTOINCREMENT table's `sqlite_sequence` row moves over
//! to the new table, so ids of deleted rows are not given out again. A migration with a
//! rebuild runs in a `transaction:false` section that turns foreign keys off first
//! (`PRAGMA foreign_keys` is a no-op inside a transaction, and dropping a parent table
//! with them on would delete or refuse child rows), opens its own transaction, and
//! checks every foreign key before COMMIT. Every view and trigger is dropped and
//! created again around a rebuild: SQLite's RENAME re-parses the schema and refuses
//! views or triggers naming the dropped table.

use super::diff::{affinity, needs_value, Change, Kind, Note, Op};
use super::model::{Object, Schema, Table};
use super::tokens::{literal, quote};

/// One section of a generated revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub sql: String,
    /// `false`: the section must run outside the runner's transaction (a rebuild).
    pub transactional: bool,
}

/// Prefix of the temporary table of a rebuild.
pub const REBUILD_PREFIX: &str = "athanor_new_";

fn comment(out: &mut String, n: &Note, undo: bool) {
    let text = if undo && n.adds {
        // Undoing a drop: the object comes back, its former contents do not.
        format!("{} (the data it held cannot be restored)", n.text)
    } else {
        n.text.clone()
    };
    if n.warning {
        out.push_str(&format!("-- WARNING: {text}\n"));
    } else {
        out.push_str(&format!("-- {text}\n"));
    }
}

fn comments(out: &mut String, c: &Change, undo: bool) {
    for n in &c.notes {
        comment(out, n, undo);
    }
}

fn stmt(out: &mut String, sql: &str) {
    let sql = sql.trim_end().trim_end_matches(';').trim_end();
    out.push_str(sql);
    out.push_str(";\n");
}

/// The SQL that turns `old` into `new` given their `changes`. `undo` marks a downgrade,
/// whose comments say what cannot be restored.
pub fn render(old: &Schema, new: &Schema, changes: &[Change], undo: bool) -> Rendered {
    render_around(old, new, changes, undo, "", "")
}

/// [`render`], with `before` and `after` (statements already written, such as declared
/// renames) run first and last, inside the rebuild's transaction when there is one.
pub fn render_around(old: &Schema, new: &Schema, changes: &[Change], undo: bool, before: &str, after: &str) -> Rendered {
    let of = |k: Kind| changes.iter().filter(move |c| c.kind == k);
    let rebuilt: Vec<&Change> = of(Kind::Table).filter(|c| matches!(c.op, Op::Rebuild | Op::Replace)).collect();
    let is_rebuilt = |table: &str| rebuilt.iter().any(|c| c.name == table.to_ascii_lowercase());
    // A virtual table dropped and created again needs no frame: nothing references it
    // through a foreign key, and no trigger sits on it.
    let any_rebuild = rebuilt.iter().any(|c| c.op == Op::Rebuild);
    // DROP VIEW takes the view's (INSTEAD OF) triggers with it: a changed view's
    // unchanged triggers are created again after it.
    let view_replaced = |name: &str| of(Kind::View).any(|c| c.name == name.to_ascii_lowercase() && c.op == Op::Replace);
    // An unchanged view or trigger that is dropped and created again; a trigger whose
    // table or view goes (and that is not declared again) goes with it.
    let recreated = |kind: Kind, key: &str, o: &Object| match kind {
        Kind::Trigger => new.triggers.contains_key(key) && (any_rebuild || view_replaced(&o.table)),
        _ => any_rebuild,
    };
    let mut out = before.to_string();

    // 1. Triggers, then views, that change or go, or are created again. Triggers first:
    // dropping a view first would drop its triggers, and their own DROP would fail.
    for (kind, word, olds) in [(Kind::Trigger, "TRIGGER", &old.triggers), (Kind::View, "VIEW", &old.views)] {
        for (key, o) in olds {
            let c = of(kind).find(|c| &c.name == key);
            match c {
                Some(c) if c.op == Op::Drop => {
                    comments(&mut out, c, undo);
                    stmt(&mut out, &format!("DROP {word} {}", quote(&o.name)));
                }
                Some(_) => stmt(&mut out, &format!("DROP {word} {}", quote(&o.name))),
                None if recreated(kind, key, o) => {
                    let after = if any_rebuild { "the table rebuild".to_string() } else { format!("view {} changes", o.table) };
                    out.push_str(&format!("-- {} {} is created again after {after}\n", word.to_ascii_lowercase(), o.name));
                    stmt(&mut out, &format!("DROP {word} {}", quote(&o.name)));
                }
                None => {}
            }
        }
    }
    // 2. Indexes that change or go.
    for c in of(Kind::Index) {
        let Some(i) = old.indexes.get(&c.name) else { continue };
        if matches!(c.op, Op::Drop | Op::Replace) {
            if c.op == Op::Drop {
                comments(&mut out, c, undo);
            }
            stmt(&mut out, &format!("DROP INDEX {}", quote(&i.name)));
        }
    }
    // 3. Tables.
    for c in drop_order(old, of(Kind::Table).filter(|c| c.op == Op::Drop).collect()) {
        comments(&mut out, c, undo);
        stmt(&mut out, &format!("DROP TABLE {}", quote(&old.tables[&c.name].name)));
    }
    for c in of(Kind::Table).filter(|c| c.op == Op::Add) {
        comments(&mut out, c, undo);
        stmt(&mut out, &new.tables[&c.name].sql);
    }
    for c in of(Kind::Table) {
        let (Some(a), Some(b)) = (old.tables.get(&c.name), new.tables.get(&c.name)) else { continue };
        match &c.op {
            Op::AddColumns(cols) => {
                for (n, col) in c.notes.iter().zip(cols) {
                    comment(&mut out, n, undo);
                    let def = &b.column(col).map(|x| x.def_src.clone()).unwrap_or_default();
                    stmt(&mut out, &format!("ALTER TABLE {} ADD COLUMN {def}", quote(&b.name)));
                }
                // Notes beyond one per column (none today) still get their line.
                for n in c.notes.iter().skip(cols.len()) {
                    comment(&mut out, n, undo);
                }
            }
            Op::DropColumns(cols) => {
                for (n, col) in c.notes.iter().zip(cols) {
                    comment(&mut out, n, undo);
                    let name = a.column(col).map(|x| x.name.clone()).unwrap_or_else(|| col.clone());
                    stmt(&mut out, &format!("ALTER TABLE {} DROP COLUMN {}", quote(&a.name), quote(&name)));
                }
                for n in c.notes.iter().skip(cols.len()) {
                    comment(&mut out, n, undo);
                }
            }
            Op::Replace => {
                comments(&mut out, c, undo);
                stmt(&mut out, &format!("DROP TABLE {}", quote(&a.name)));
                stmt(&mut out, &b.sql);
                indexes_of(&mut out, new, &b.name, changes, undo);
            }
            Op::Rebuild => {
                comments(&mut out, c, undo);
                rebuild(&mut out, a, b);
                indexes_of(&mut out, new, &b.name, changes, undo);
            }
            Op::Add | Op::Drop => {}
        }
    }
    // 4. New and changed indexes on tables that were not rebuilt (those had theirs).
    for c in of(Kind::Index).filter(|c| matches!(c.op, Op::Add | Op::Replace)) {
        let i = &new.indexes[&c.name];
        if !is_rebuilt(&i.table) {
            comments(&mut out, c, undo);
            stmt(&mut out, &i.sql);
        }
    }
    // 5. Views, then triggers (a trigger may select from a view).
    for (kind, news) in [(Kind::View, &new.views), (Kind::Trigger, &new.triggers)] {
        for (key, o) in news {
            match of(kind).find(|c| &c.name == key) {
                Some(c) => {
                    comments(&mut out, c, undo);
                    stmt(&mut out, &o.sql);
                }
                None if recreated(kind, key, o) => stmt(&mut out, &o.sql),
                None => {}
            }
        }
    }
    out.push_str(after);
    if any_rebuild {
        let mut wrapped = String::from(
            "-- A table rebuild runs outside the runner's transaction, with foreign keys off\n\
             -- (SQLite's documented procedure), in a transaction of its own.\n\
             PRAGMA foreign_keys=OFF;\nBEGIN;\n",
        );
        wrapped.push_str(&out);
        wrapped.push_str(
            "PRAGMA foreign_key_check;\n\
             -- The check above only reports; this fails the migration if any foreign key is broken.\n\
             CREATE TEMP TABLE athanor_fk_check (violations INTEGER CONSTRAINT \"foreign keys broken: see PRAGMA foreign_key_check\" CHECK (violations = 0));\n\
             INSERT INTO athanor_fk_check SELECT count(*) FROM pragma_foreign_key_check;\n\
             DROP TABLE athanor_fk_check;\n\
             COMMIT;\nPRAGMA foreign_keys=ON;\n",
        );
        return Rendered { sql: wrapped, transactional: false };
    }
    Rendered { sql: out, transactional: true }
}

/// Dropped tables, children before their parents: with foreign keys on, dropping a
/// parent first deletes its rows implicitly and fails on (or cascades to) the child's.
/// A cycle among them keeps name order for what is left.
fn drop_order<'c>(old: &Schema, mut left: Vec<&'c Change>) -> Vec<&'c Change> {
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let referenced = |name: &str| {
            left.iter().any(|o| o.name != name && old.tables.get(&o.name).is_some_and(|t| t.foreign_keys.iter().any(|f| f.table == name)))
        };
        let next = left.iter().position(|c| !referenced(&c.name)).unwrap_or(0);
        out.push(left.remove(next));
    }
    out
}

/// Creates the indexes of a rebuilt table (dropped with the old one).
fn indexes_of(out: &mut String, new: &Schema, table: &str, changes: &[Change], undo: bool) {
    for i in new.indexes_on(table) {
        if let Some(c) = changes.iter().find(|c| c.kind == Kind::Index && c.name == i.name.to_ascii_lowercase()) {
            comments(out, c, undo);
        }
        stmt(out, &i.sql);
    }
}

/// Steps 4-7 of SQLite's procedure: new table, copy kept columns, drop, rename. A
/// narrowing change gets a guard that fails the migration with a message saying why,
/// rather than a copy that fails obscurely or changes values: before the copy for a
/// column that existing rows have no value for, after it for a type change.
fn rebuild(out: &mut String, a: &Table, b: &Table) {
    let tmp = quote(&format!("{REBUILD_PREFIX}{}", b.name));
    let old = quote(&a.name);
    stmt(out, &format!("CREATE TABLE {tmp} {}", b.sql[b.body_at..].trim()));
    for c in b.columns.iter().filter(|c| c.notnull && !c.generated()) {
        match a.column(&c.name) {
            None if needs_value(c) => {
                out.push_str(&format!(
                    "-- {}.{} needs a value in existing rows: declare a DEFAULT, or delete this guard and give it one in the copy below\n",
                    a.name, c.name
                ));
                guard(
                    out,
                    &format!("{}.{} is added NOT NULL without a DEFAULT: existing rows need a value", a.name, c.name),
                    &format!("SELECT count(*) FROM {old}"),
                )
            }
            // The copy inserts NULL explicitly, where a DEFAULT does not apply.
            Some(o) if !o.notnull => guard(
                out,
                &format!("{}.{} becomes NOT NULL: rows where it is NULL need a value first", a.name, c.name),
                &format!("SELECT count(*) FROM {old} WHERE {} IS NULL", quote(&c.name)),
            ),
            _ => {}
        }
    }
    // Generated columns are computed, never inserted.
    let kept: Vec<String> = b.columns.iter().filter(|c| !c.generated() && a.column(&c.name).is_some()).map(|c| quote(&c.name)).collect();
    if kept.is_empty() {
        out.push_str(&format!("-- WARNING: no column of {} is kept: its rows are not copied\n", a.name));
    } else {
        let cols = kept.join(", ");
        stmt(out, &format!("INSERT INTO {tmp} ({cols}) SELECT {cols} FROM {old}"));
    }
    for c in &b.columns {
        let Some(o) = a.column(&c.name) else { continue };
        if c.generated() || o.generated() || affinity(&o.decl_type) == affinity(&c.decl_type) {
            continue;
        }
        // The multiset of values before and after: a value the conversion changed leaves
        // its (value, count) pair behind.
        let values = |table: &str| format!("SELECT {} COLLATE BINARY, count(*) FROM {table} GROUP BY 1", value_key(&quote(&c.name)));
        guard(
            out,
            &format!("{}.{}: the new type would change stored values (e.g. '007' to 7); convert them first", a.name, c.name),
            &format!("SELECT count(*) FROM ({} EXCEPT {})", values(&old), values(&tmp)),
        );
    }
    if a.autoincrement && b.autoincrement {
        // The copy left the new table's sqlite_sequence row at the highest id copied,
        // and DROP TABLE deletes the old one's: ids of rows deleted since would be given
        // out again. The old row moves over instead (RENAME then renames it too).
        let tmp_name = literal(&format!("{REBUILD_PREFIX}{}", b.name));
        out.push_str(&format!("-- {} keeps its AUTOINCREMENT high-water mark\n", b.name));
        stmt(out, &format!("DELETE FROM sqlite_sequence WHERE name = {tmp_name}"));
        stmt(out, &format!("UPDATE sqlite_sequence SET name = {tmp_name} WHERE name = {}", literal(&a.name)));
    }
    stmt(out, &format!("DROP TABLE {old}"));
    stmt(out, &format!("ALTER TABLE {tmp} RENAME TO {}", quote(&b.name)));
}

/// A value as the type guard compares it: numbers, and text that is exactly a
/// number's canonical spelling, as the number (so '30' and 30 are the same value, as
/// are 5 and 5.0); any other text ('007', ' 1') and blobs as they are. `+` strips the
/// column's affinity, so the comparisons do not convert.
fn value_key(col: &str) -> String {
    format!(
        "CASE WHEN typeof({col}) <> 'text' THEN +{col} WHEN CAST(CAST({col} AS NUMERIC) AS TEXT) = +{col} THEN CAST({col} AS NUMERIC) WHEN CAST(CAST({col} AS REAL) AS TEXT) = +{col} THEN CAST({col} AS REAL) ELSE +{col} END"
    )
}

/// Fails the migration with `message` (SQLite reports it as "CHECK constraint failed:
/// <message>") when `count_sql` counts anything. Inside the rebuild's transaction, so
/// the failure rolls everything back.
fn guard(out: &mut String, message: &str, count_sql: &str) {
    stmt(out, &format!("CREATE TEMP TABLE athanor_guard (n INTEGER CONSTRAINT {} CHECK (n = 0))", quote(message)));
    stmt(out, &format!("INSERT INTO athanor_guard {count_sql}"));
    stmt(out, "DROP TABLE athanor_guard");
}
