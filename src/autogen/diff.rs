//! Comparing two schemas: pure, no SQL run. Each difference becomes a [`Change`] with
//! one human line per detected difference ([`Note`]), and for a changed table, the way
//! SQLite can apply it ([`Op`]): `ADD COLUMN` / `DROP COLUMN` only where SQLite allows
//! them, otherwise the table rebuild. Renames are never guessed: a renamed column or
//! table is a drop and an add.

use std::collections::BTreeSet;

use super::model::{Column, Schema, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Table,
    Index,
    View,
    Trigger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Add,
    Drop,
    /// Drop and create again (indexes, views, triggers, virtual tables).
    Replace,
    /// `ALTER TABLE ADD COLUMN` of these columns (lower-cased names), in order.
    AddColumns(Vec<String>),
    /// `ALTER TABLE DROP COLUMN` of these columns.
    DropColumns(Vec<String>),
    /// The 12-step rebuild: new table, copy, drop, rename.
    Rebuild,
}

/// One detected difference, as a comment line; `warning` when applying it can delete
/// or alter stored values (a dropped table or column) or fail on existing rows (a
/// narrowing change): the line then starts with `WARNING:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub warning: bool,
    /// It announces a table or column being added: in a downgrade (which adds back what
    /// the upgrade dropped) its data does not come back, and the comment says so.
    pub adds: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    /// Lower-cased name: the key in both schemas.
    pub name: String,
    pub op: Op,
    pub notes: Vec<Note>,
}

/// The changes that turn `old` into `new`, in a fixed order (tables, indexes, views,
/// triggers; each by name).
pub fn diff(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    for name in keys(&old.tables, &new.tables) {
        match (old.tables.get(&name), new.tables.get(&name)) {
            (None, Some(t)) => out.push(change(Kind::Table, &name, Op::Add, vec![adds(note(format!("add table {}", t.name), false))])),
            (Some(t), None) => {
                out.push(change(Kind::Table, &name, Op::Drop, vec![note(format!("drop table {} (its rows are deleted)", t.name), true)]))
            }
            (Some(a), Some(b)) if a != b => out.push(alter_table(old, a, b)),
            _ => {}
        }
    }
    for name in keys(&old.indexes, &new.indexes) {
        let (a, b) = (old.indexes.get(&name), new.indexes.get(&name));
        // An index goes with its table: a dropped table's indexes need no change of their own.
        if b.is_none() && a.is_some_and(|i| !new.tables.contains_key(&i.table.to_ascii_lowercase())) {
            continue;
        }
        let describe = |i: &super::model::Index| {
            let mut what = vec![];
            if i.unique {
                what.push("unique");
            }
            if i.partial {
                what.push("partial");
            }
            if i.expression {
                what.push("expression");
            }
            let what = if what.is_empty() { String::new() } else { format!(" ({})", what.join(", ")) };
            format!("index {}{what} on {}({})", i.name, i.table, i.columns.join(", "))
        };
        // A new or changed UNIQUE index on a table that may have rows fails on duplicates
        // (and the migration rolls back) rather than losing any.
        let narrows = |i: &super::model::Index| i.unique && old.tables.contains_key(&i.table.to_ascii_lowercase());
        let duplicates = " (rows with duplicate keys make the migration fail)";
        match (a, b) {
            (None, Some(i)) => {
                let n = if narrows(i) { note(format!("add {}{duplicates}", describe(i)), true) } else { note(format!("add {}", describe(i)), false) };
                out.push(change(Kind::Index, &name, Op::Add, vec![n]))
            }
            (Some(i), None) => out.push(change(Kind::Index, &name, Op::Drop, vec![note(format!("drop {}", describe(i)), false)])),
            (Some(x), Some(i)) if x != i => {
                let n = if narrows(i) {
                    note(format!("change {}{duplicates}", describe(i)), true)
                } else {
                    note(format!("change {}", describe(i)), false)
                };
                out.push(change(Kind::Index, &name, Op::Replace, vec![n]))
            }
            _ => {}
        }
    }
    for (kind, word, a_map, b_map) in [(Kind::View, "view", &old.views, &new.views), (Kind::Trigger, "trigger", &old.triggers, &new.triggers)] {
        for name in keys(a_map, b_map) {
            let (a, b) = (a_map.get(&name), b_map.get(&name));
            if kind == Kind::Trigger && b.is_none() && a.is_some_and(|t| !new.owns_triggers(&t.table)) {
                continue; // goes with its table or view (INSTEAD OF)
            }
            match (a, b) {
                (None, Some(o)) => out.push(change(kind, &name, Op::Add, vec![note(format!("add {word} {}", o.name), false)])),
                (Some(o), None) => out.push(change(kind, &name, Op::Drop, vec![note(format!("drop {word} {}", o.name), false)])),
                (Some(x), Some(o)) if x != o => out.push(change(kind, &name, Op::Replace, vec![note(format!("change {word} {}", o.name), false)])),
                _ => {}
            }
        }
    }
    out
}

fn keys<V>(a: &std::collections::BTreeMap<String, V>, b: &std::collections::BTreeMap<String, V>) -> BTreeSet<String> {
    a.keys().chain(b.keys()).cloned().collect()
}

fn note(text: String, warning: bool) -> Note {
    Note { text, warning, adds: false }
}

fn adds(note: Note) -> Note {
    Note { adds: true, ..note }
}

fn change(kind: Kind, name: &str, op: Op, notes: Vec<Note>) -> Change {
    Change { kind, name: name.to_string(), op, notes }
}

fn lc(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Whether the normalized text `norm` mentions the identifier `name` (lower-cased).
fn mentions(norm: &str, name: &str) -> bool {
    norm.split(' ').any(|w| w == name || w.trim_matches('"') == name)
}

fn alter_table(old_schema: &Schema, a: &Table, b: &Table) -> Change {
    let t = &b.name;
    let name = lc(&b.name);
    if a.virtual_table || b.virtual_table {
        let n = note(format!("change virtual table {t} (dropped and created again; its rows are deleted)"), true);
        return change(Kind::Table, &name, Op::Replace, vec![n]);
    }
    let mut notes = Vec::new();
    let old_keys: Vec<String> = a.columns.iter().map(|c| lc(&c.name)).collect();
    let new_keys: Vec<String> = b.columns.iter().map(|c| lc(&c.name)).collect();
    let added: Vec<String> = new_keys.iter().filter(|k| !old_keys.contains(k)).cloned().collect();
    let dropped: Vec<String> = old_keys.iter().filter(|k| !new_keys.contains(k)).cloned().collect();
    for c in &b.columns {
        if added.contains(&lc(&c.name)) {
            if needs_value(c) {
                let text = format!(
                    "add column {t}.{} NOT NULL without a DEFAULT (existing rows have no value for it: the migration fails if {t} has rows)",
                    c.name
                );
                notes.push(adds(note(text, true)));
            } else if !c.constant_default {
                // Not a choice the migration can make for the user, but worth saying:
                // `DEFAULT (datetime('now'))` dates old rows to the upgrade.
                let text = format!(
                    "add column {t}.{} (its DEFAULT is not a constant: rows already in {t} get the value it has when the migration runs)",
                    c.name
                );
                notes.push(adds(note(text, false)));
            } else {
                notes.push(adds(note(format!("add column {t}.{}", c.name), false)));
            }
        }
    }
    for c in &a.columns {
        if dropped.contains(&lc(&c.name)) {
            notes.push(note(format!("drop column {t}.{} (its data is deleted)", c.name), true));
        }
    }
    let fks_of = |tb: &Table, col: &str| tb.foreign_keys.iter().filter(|f| f.from.iter().any(|x| x == col)).cloned().collect::<Vec<_>>();
    for nc in &b.columns {
        let Some(oc) = a.column(&nc.name) else { continue };
        let c = format!("column {t}.{}", nc.name);
        let before = notes.len();
        if oc.decl_type != nc.decl_type {
            let converts = affinity(&oc.decl_type) != affinity(&nc.decl_type);
            let what = if converts {
                "values are converted to the new type's affinity; the migration fails if that would change one"
            } else {
                "same affinity: values are kept as they are"
            };
            notes.push(note(format!("{c}: type {} -> {} ({what})", show_type(&oc.decl_type), show_type(&nc.decl_type)), converts));
        }
        if oc.notnull != nc.notnull {
            let n = if nc.notnull {
                note(format!("{c}: NOT NULL added (rows where it is NULL make the migration fail)"), true)
            } else {
                note(format!("{c}: NOT NULL dropped"), false)
            };
            notes.push(n);
        }
        if oc.default != nc.default {
            let d = |x: &Option<String>| x.clone().unwrap_or_else(|| "none".into());
            notes.push(note(format!("{c}: DEFAULT {} -> {}", d(&oc.default), d(&nc.default)), false));
        }
        if oc.pk != nc.pk {
            notes.push(note(format!("{c}: PRIMARY KEY changed (rows that collide make the migration fail)"), true));
        }
        if oc.hidden != nc.hidden {
            notes.push(note(format!("{c}: generated column changed (stored values are recomputed or dropped)"), true));
        }
        // AUTOINCREMENT has its own table-level line.
        let plain = |d: &str| d.replace(" autoincrement", "");
        // When other lines were written, only what they do not explain (e.g. a UNIQUE
        // added along with a DEFAULT dropped) still needs this one.
        let unexplained = notes.len() == before || residual(&oc.def_src) != residual(&nc.def_src);
        if unexplained && plain(&oc.def) != plain(&nc.def) && fks_of(a, &lc(&nc.name)) == fks_of(b, &lc(&nc.name)) {
            notes.push(note(format!("{c}: definition changed (COLLATE, CHECK, UNIQUE or generated expression)"), true));
        }
    }
    let kept_old: Vec<&String> = old_keys.iter().filter(|k| new_keys.contains(k)).collect();
    let kept_new: Vec<&String> = new_keys.iter().filter(|k| old_keys.contains(k)).collect();
    if kept_old != kept_new {
        notes.push(note(format!("table {t}: column order changed"), false));
    }
    for x in b.constraints.iter().filter(|x| !a.constraints.contains(x)) {
        notes.push(note(format!("table {t}: constraint added: {x} (rows that violate it make the migration fail)"), true));
    }
    for x in a.constraints.iter().filter(|x| !b.constraints.contains(x)) {
        notes.push(note(format!("table {t}: constraint dropped: {x}"), false));
    }
    for f in b.foreign_keys.iter().filter(|f| !a.foreign_keys.contains(f)) {
        notes.push(note(format!("table {t}: foreign key added: {} (rows without a parent make the migration fail)", f.describe()), true));
    }
    for f in a.foreign_keys.iter().filter(|f| !b.foreign_keys.contains(f)) {
        notes.push(note(format!("table {t}: foreign key dropped: {}", f.describe()), false));
    }
    for o in b.options.iter().filter(|o| !a.options.contains(o)) {
        notes.push(note(format!("table {t}: {} added", o.to_ascii_uppercase()), o == "strict"));
    }
    for o in a.options.iter().filter(|o| !b.options.contains(o)) {
        notes.push(note(format!("table {t}: {} dropped", o.to_ascii_uppercase()), false));
    }
    if a.autoincrement && !b.autoincrement {
        notes.push(note(
            format!("table {t}: AUTOINCREMENT dropped (its sqlite_sequence high-water mark goes: ids of deleted rows can be given out again)"),
            false,
        ));
    } else if b.autoincrement && !a.autoincrement {
        notes.push(note(format!("table {t}: AUTOINCREMENT added"), false));
    }
    if notes.is_empty() {
        notes.push(note(format!("table {t}: definition changed"), true));
    }
    let op = if can_add_columns(a, b, &added) {
        Op::AddColumns(added)
    } else if can_drop_columns(old_schema, a, b, &dropped) {
        Op::DropColumns(dropped)
    } else {
        Op::Rebuild
    };
    change(Kind::Table, &name, op, notes)
}

/// A column definition without its name, type, NULL / NOT NULL, DEFAULT and PRIMARY KEY
/// clauses (each of which has its own line): what is left is COLLATE, CHECK, UNIQUE,
/// REFERENCES, a generated expression, constraint names and conflict clauses.
fn residual(def_src: &str) -> String {
    use super::tokens::{matching_paren, normalize, tokenize, Kind as T};
    const STARTS: &[&str] = &["constraint", "primary", "not", "null", "unique", "check", "default", "collate", "references", "generated", "as"];
    let toks = tokenize(def_src);
    let mut i = 1; // the name
    while i < toks.len() && !(toks[i].kind == T::Word && STARTS.contains(&toks[i].text.as_str())) {
        i = if toks[i].kind == T::Punct && toks[i].text == "(" { matching_paren(&toks, i).map_or(toks.len(), |c| c + 1) } else { i + 1 };
    }
    let mut kept = Vec::new();
    while i < toks.len() {
        let t = &toks[i];
        if t.is("not") && toks.get(i + 1).is_some_and(|n| n.is("null")) {
            i += 2;
        } else if t.is("null") {
            i += 1;
        } else if t.is("primary") && toks.get(i + 1).is_some_and(|n| n.is("key")) {
            i += 2;
            while toks.get(i).is_some_and(|n| n.is("asc") || n.is("desc") || n.is("autoincrement")) {
                i += 1;
            }
        } else if t.is("default") {
            i += 1;
            if toks.get(i).is_some_and(|n| n.kind == T::Punct && (n.text == "-" || n.text == "+")) {
                i += 1;
            }
            i = match toks.get(i) {
                Some(n) if n.kind == T::Punct && n.text == "(" => matching_paren(&toks, i).map_or(toks.len(), |c| c + 1),
                Some(_) => i + 1,
                None => i,
            };
        } else {
            kept.push(t.clone());
            i += 1;
        }
    }
    normalize(&kept)
}

/// A column added NOT NULL with no value for the rows already there: SQLite cannot
/// `ADD COLUMN` it, and the rebuild's copy has nothing to put in it.
pub fn needs_value(c: &Column) -> bool {
    c.notnull && !c.generated() && c.default.as_deref().is_none_or(|d| d.eq_ignore_ascii_case("null"))
}

/// SQLite's column affinity of a declared type (<https://sqlite.org/datatype3.html#determination_of_column_affinity>):
/// what a stored value is converted to.
pub fn affinity(decl_type: &str) -> &'static str {
    let t = decl_type.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.contains("BLOB") || t.is_empty() {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

fn show_type(t: &str) -> &str {
    if t.is_empty() {
        "(none)"
    } else {
        t
    }
}

fn same_table_level(a: &Table, b: &Table) -> bool {
    a.constraints == b.constraints && a.options == b.options && a.autoincrement == b.autoincrement
}

/// SQLite's rules for `ALTER TABLE ADD COLUMN`: appended at the end; not PRIMARY KEY or
/// UNIQUE; a constant default (as SQLite judges it: an expression or `CURRENT_TIMESTAMP`
/// is refused on a table with rows); NOT NULL only with a non-NULL default; a
/// REFERENCES column only with a NULL default; not a STORED generated column.
fn can_add_columns(a: &Table, b: &Table, added: &[String]) -> bool {
    if added.is_empty() || b.columns.len() != a.columns.len() + added.len() || b.columns[..a.columns.len()] != a.columns[..] {
        return false;
    }
    if !same_table_level(a, b) {
        return false;
    }
    let old_fks: Vec<_> = b.foreign_keys.iter().filter(|f| !f.from.iter().any(|c| added.contains(c))).cloned().collect();
    if old_fks != a.foreign_keys {
        return false;
    }
    b.columns[a.columns.len()..].iter().all(|c| {
        let has_fk = b.foreign_keys.iter().any(|f| f.from.contains(&lc(&c.name)));
        let default_null = c.default.as_deref().is_none_or(|d| d.eq_ignore_ascii_case("null"));
        c.pk == 0
            && !mentions(&c.def, "unique")
            && !mentions(&c.def, "primary")
            && c.hidden != 3
            && c.constant_default
            && (!c.notnull || !default_null)
            && (!has_fk || default_null)
    })
}

/// `ALTER TABLE DROP COLUMN` where SQLite surely allows it: the rest of the table
/// unchanged, and nothing else (key, index, constraint, other column, foreign key,
/// view, trigger) naming the column. Anything less certain is rebuilt.
fn can_drop_columns(old_schema: &Schema, a: &Table, b: &Table, dropped: &[String]) -> bool {
    if dropped.is_empty() || !same_table_level(a, b) || a.foreign_keys != b.foreign_keys {
        return false;
    }
    let rest: Vec<&Column> = a.columns.iter().filter(|c| !dropped.contains(&lc(&c.name))).collect();
    if rest.len() != b.columns.len() || rest.iter().zip(&b.columns).any(|(x, y)| *x != y) {
        return false;
    }
    let table = lc(&a.name);
    dropped.iter().all(|d| {
        let Some(c) = a.column(d) else { return false };
        let referenced_by_child = old_schema
            .tables
            .values()
            .any(|t| t.foreign_keys.iter().any(|f| f.table == table && (f.to.contains(d) || f.to.iter().any(String::is_empty))));
        c.pk == 0
            && c.hidden == 0
            && !mentions(&c.def, "unique")
            && !mentions(&c.def, "primary")
            && !mentions(&c.def, "references")
            && !a.constraints.iter().any(|x| mentions(x, d))
            && !a.columns.iter().any(|o| lc(&o.name) != *d && mentions(o.def.split_once(' ').map(|x| x.1).unwrap_or(""), d))
            && !old_schema.indexes_on(&a.name).any(|i| i.columns.contains(d) || mentions(&i.norm, d))
            && !old_schema.views.values().chain(old_schema.triggers.values()).any(|o| mentions(&o.norm, d))
            && !referenced_by_child
    })
}
