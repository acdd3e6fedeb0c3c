//! `lint`'s classes, found in the schema before a migration and after it (autogenerate's
//! model), with the migration's statements for what two schemas cannot tell apart: a
//! rename from a drop and an add, and `DROP COLUMN` from a table rebuilt without the
//! column. Pure: no SQL runs here.

use crate::autogen::diff::needs_value;
use crate::autogen::model::{ForeignKey, Schema, Table};
use crate::autogen::tokens::{matching_paren, normalize, tokenize, Kind, Tok};

/// A class of finding; `name()` is how the CLI, JSON and `lint-ignore` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A table or column dropped, or a table rebuilt without a column: data is deleted.
    Destructive,
    /// A NOT NULL, UNIQUE, CHECK, primary key or foreign key added to a table that
    /// existed before (so may hold rows): the migration fails, or breaks integrity, on
    /// rows that do not fit.
    DataDependent,
    /// A table or column renamed or dropped: clients still on the old schema break.
    BackwardIncompatible,
    /// A `transaction:false` upgrade: a failure part-way leaves what ran before it.
    NonTransactional,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Destructive, Class::DataDependent, Class::BackwardIncompatible, Class::NonTransactional];

    pub fn name(self) -> &'static str {
        match self {
            Class::Destructive => "destructive",
            Class::DataDependent => "data-dependent",
            Class::BackwardIncompatible => "backward-incompatible",
            Class::NonTransactional => "non-transactional",
        }
    }

    pub fn parse(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(name))
    }
}

/// A finding without its place: its class and one line about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub class: Class,
    pub message: String,
}

/// What a migration's statements say that its schemas cannot (names lower-cased).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intent {
    /// `ALTER TABLE a RENAME TO b`.
    pub table_renames: Vec<(String, String)>,
    /// `ALTER TABLE t RENAME [COLUMN] a TO b`: (t, a, b).
    pub column_renames: Vec<(String, String, String)>,
    /// `ALTER TABLE t DROP [COLUMN] c`: (t, c).
    pub dropped_columns: Vec<(String, String)>,
    /// The tables `INSERT INTO t ... SELECT` fills: where a rebuild copies rows.
    pub copied_into: Vec<String>,
    /// Tables of the schema before that were gone after some statement (dropped or
    /// renamed away), whatever the end holds; set by whoever ran the statements.
    pub absent_between: Vec<String>,
}

/// A name token (`x`, `"x"`, `` `x` ``, `[x]`), lower-cased.
fn name(t: Option<&Tok>) -> Option<String> {
    t.filter(|t| matches!(t.kind, Kind::Word | Kind::Quoted)).map(|t| t.text.clone())
}

impl Intent {
    /// Reads the `ALTER TABLE` statements among `statements`.
    pub fn of<'s>(statements: impl IntoIterator<Item = &'s str>) -> Intent {
        let mut intent = Intent::default();
        for sql in statements {
            let toks = tokenize(sql);
            if let Some(into) = copy_target(&toks) {
                intent.copied_into.push(into);
            }
            if !(toks.first().is_some_and(|t| t.is("alter")) && toks.get(1).is_some_and(|t| t.is("table"))) {
                continue;
            }
            // `main.t`: the table is the name after the dot.
            let at = if toks.get(3).is_some_and(|t| t.text == ".") { 4 } else { 2 };
            let Some(table) = name(toks.get(at)) else { continue };
            let rest = &toks[at + 1..];
            let word = |i: usize| rest.get(i).map(|t| t.text.as_str()).unwrap_or("");
            match (word(0), word(1)) {
                ("rename", "to") => {
                    if let Some(new) = name(rest.get(2)) {
                        intent.table_renames.push((table, new));
                    }
                }
                ("rename", _) => {
                    let skip = usize::from(word(1) == "column");
                    if let (Some(old), "to", Some(new)) = (name(rest.get(1 + skip)), word(2 + skip), name(rest.get(3 + skip))) {
                        intent.column_renames.push((table, old, new));
                    }
                }
                ("drop", _) => {
                    let skip = usize::from(word(1) == "column");
                    if let Some(col) = name(rest.get(1 + skip)) {
                        intent.dropped_columns.push((table, col));
                    }
                }
                _ => {}
            }
        }
        intent
    }
}

/// The table of an `INSERT` / `REPLACE INTO t ... SELECT`.
fn copy_target(toks: &[Tok]) -> Option<String> {
    if !toks.first().is_some_and(|t| t.is("insert") || t.is("replace")) || !toks.iter().any(|t| t.is("select")) {
        return None;
    }
    let into = toks.iter().position(|t| t.is("into"))?;
    let at = if toks.get(into + 2).is_some_and(|t| t.text == ".") { into + 3 } else { into + 1 };
    name(toks.get(at))
}

fn lc(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The renames that `before` and `after` bear out: the old name gone, the new one new.
struct Renames {
    tables: Vec<(String, String)>,
    /// (table in `after`, old column, new column).
    columns: Vec<(String, String, String)>,
}

impl Renames {
    fn new(before: &Schema, after: &Schema, intent: &Intent) -> Renames {
        let tables: Vec<(String, String)> = intent
            .table_renames
            .iter()
            .filter(|(a, b)| {
                before.tables.contains_key(a) && !after.tables.contains_key(a) && after.tables.contains_key(b) && !before.tables.contains_key(b)
            })
            .cloned()
            .collect();
        let mut r = Renames { tables, columns: vec![] };
        for (t, a, b) in &intent.column_renames {
            // The statement names the table as it was then: before or after its rename.
            let new_t = r.table(t);
            let old_t = r.old_table(&new_t);
            let (Some(bt), Some(at)) = (before.tables.get(&old_t), after.tables.get(&new_t)) else { continue };
            if bt.column(a).is_some() && at.column(a).is_none() && at.column(b).is_some() && bt.column(b).is_none() {
                r.columns.push((new_t, a.clone(), b.clone()));
            }
        }
        r
    }

    /// A table's name after the migration.
    fn table(&self, old: &str) -> String {
        self.tables.iter().find(|(a, _)| a == old).map_or_else(|| old.to_string(), |(_, b)| b.clone())
    }

    /// A table's name before the migration.
    fn old_table(&self, new: &str) -> String {
        self.tables.iter().find(|(_, b)| b == new).map_or_else(|| new.to_string(), |(a, _)| a.clone())
    }

    /// A column's name after the migration (`table`: its name after).
    fn column(&self, table: &str, old: &str) -> Option<&str> {
        self.columns.iter().find(|(t, a, _)| t == table && a == old).map(|(_, _, b)| b.as_str())
    }

    /// A normalized text of table `table` (named as after) with renamed names as after.
    fn text(&self, table: &str, norm: &str) -> String {
        let words: Vec<String> = norm
            .split(' ')
            .map(|w| {
                let col = self.columns.iter().find(|(t, a, _)| t == table && a == w).map(|(_, _, b)| b.clone());
                col.or_else(|| self.tables.iter().find(|(a, _)| a == w).map(|(_, b)| b.clone())).unwrap_or_else(|| w.to_string())
            })
            .collect();
        words.join(" ")
    }

    /// A foreign key of `table` (named as after) with renamed names as after.
    fn foreign_key(&self, table: &str, f: &ForeignKey, after: &Schema) -> ForeignKey {
        let parent = self.table(&f.table);
        let mut g = f.clone();
        g.from = f.from.iter().map(|c| self.column(table, c).unwrap_or(c).to_string()).collect();
        g.to = f.to.iter().map(|c| self.column(&parent, c).unwrap_or(c).to_string()).collect();
        g.table = if after.tables.contains_key(&parent) { parent } else { f.table.clone() };
        g
    }
}

/// UNIQUE and the CHECK clauses of a column definition: each normalized (to compare)
/// with its text as written (to show).
fn clauses(def: &str) -> (bool, Vec<(String, String)>) {
    let toks = tokenize(def);
    let unique = toks.iter().any(|t| t.is("unique"));
    let mut checks = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.is("check") && toks.get(i + 1).is_some_and(|p| p.text == "(") {
            let end = matching_paren(&toks, i + 1).unwrap_or(toks.len() - 1);
            checks.push((normalize(&toks[i..=end]), def[t.start..toks[end].end].to_string()));
        }
    }
    (unique, checks)
}

/// Whether a normalized table constraint can refuse rows (UNIQUE, PRIMARY KEY, CHECK);
/// foreign keys are compared as `PRAGMA foreign_key_list` has them.
fn narrows(constraint: &str) -> bool {
    let words: Vec<&str> = constraint.split(' ').collect();
    !words.contains(&"foreign") && words.iter().any(|w| ["unique", "primary", "check"].contains(w))
}

/// The findings of a migration that turned `before` into `after`, each once, tables in
/// name order, each table's columns in order. (Nothing is sorted: every sort's code is
/// its own in the wasm.)
pub fn classify(before: &Schema, after: &Schema, intent: &Intent) -> Vec<Issue> {
    let renames = Renames::new(before, after, intent);
    let mut out: Vec<Issue> = Vec::new();
    let mut issue = |class: Class, message: String| {
        let i = Issue { class, message };
        if !out.contains(&i) {
            out.push(i);
        }
    };
    for (key, bt) in &before.tables {
        let new_key = renames.table(key);
        let Some(at) = after.tables.get(&new_key) else {
            issue(Class::Destructive, format!("table {} dropped (its rows are deleted)", bt.name));
            issue(Class::BackwardIncompatible, format!("table {} dropped (clients on the old schema still use it)", bt.name));
            continue;
        };
        if new_key != *key {
            issue(Class::BackwardIncompatible, format!("table {} renamed to {} (clients on the old schema still use {0})", bt.name, at.name));
        }
        let recreated = new_key == *key && recreated(key, intent);
        if recreated {
            issue(Class::Destructive, format!("table {} dropped and created again (its rows are deleted)", at.name));
        }
        if !(bt.virtual_table || at.virtual_table) {
            compare_table(bt, at, &renames, intent, recreated, after, &mut issue);
        }
    }
    for (key, ai) in after.indexes.iter().filter(|(_, i)| i.unique) {
        let table = lc(&ai.table);
        let old = renames.old_table(&table);
        if !before.tables.contains_key(&old) || (old == table && recreated(&old, intent)) {
            continue; // a new table: no rows yet
        }
        let what = format!("unique index {} on {}({})", ai.name, ai.table, ai.columns.join(", "));
        match before.indexes.get(key) {
            None => issue(Class::DataDependent, format!("{what} added (rows with duplicate keys make the migration fail)")),
            Some(bi) => {
                let cols: Vec<String> = bi.columns.iter().map(|c| renames.column(&table, c).unwrap_or(c).to_string()).collect();
                if !bi.unique || cols != ai.columns || (ai.partial && !bi.partial) {
                    issue(Class::DataDependent, format!("{what} changed (rows with duplicate keys make the migration fail)"));
                }
            }
        }
    }
    out
}

/// Whether the table `key` (there before and after, under that name) went away for a
/// while and came back without rows: nothing copied into it or into a table renamed to
/// it, and it was not merely renamed away and back.
fn recreated(key: &str, intent: &Intent) -> bool {
    let renamed_to = |a: &str, b: &str| intent.table_renames.iter().any(|(x, y)| x == a && y == b);
    let origins = intent.table_renames.iter().filter(|(_, b)| b == key).map(|(a, _)| a.as_str());
    intent.absent_between.iter().any(|t| t == key)
        && !intent.copied_into.iter().any(|t| t == key)
        && !origins.into_iter().any(|a| intent.copied_into.iter().any(|t| t == a) || renamed_to(key, a))
}

/// The findings of one table that is there before and after (`bt` → `at`); one that
/// was `recreated` empty has no rows for a constraint to fail on, and its columns' data
/// went with its rows.
fn compare_table(bt: &Table, at: &Table, renames: &Renames, intent: &Intent, recreated: bool, after: &Schema, issue: &mut impl FnMut(Class, String)) {
    let mut issue = |class: Class, message: String| {
        if !(recreated && matches!(class, Class::DataDependent | Class::Destructive)) {
            issue(class, message);
        }
    };
    let t = &at.name;
    let key = lc(t);
    let old_key = lc(&bt.name);
    let mut kept = Vec::new();
    for bc in &bt.columns {
        let new_name = renames.column(&key, &lc(&bc.name)).map(str::to_string).unwrap_or_else(|| lc(&bc.name));
        let Some(ac) = at.column(&new_name) else {
            let dropped = intent.dropped_columns.iter().any(|(dt, c)| (*dt == key || *dt == old_key) && *c == lc(&bc.name));
            let what = if dropped { format!("column {t}.{} dropped", bc.name) } else { format!("table {t} rebuilt without column {}", bc.name) };
            issue(Class::Destructive, format!("{what} (its data is deleted)"));
            issue(Class::BackwardIncompatible, format!("column {t}.{} dropped (clients on the old schema still use it)", bc.name));
            continue;
        };
        kept.push(lc(&ac.name));
        let c = format!("column {t}.{}", ac.name);
        if !ac.name.eq_ignore_ascii_case(&bc.name) {
            issue(Class::BackwardIncompatible, format!("column {t}.{} renamed to {} (clients on the old schema still use {0})", bc.name, ac.name));
        }
        if ac.notnull && !bc.notnull {
            issue(Class::DataDependent, format!("{c}: NOT NULL added (rows where it is NULL make the migration fail)"));
        }
        // A composite key declared apart has its own line (constraint added).
        if ac.pk != bc.pk && ac.pk > 0 && tokenize(&ac.def).iter().any(|t| t.is("primary")) {
            issue(Class::DataDependent, format!("{c}: PRIMARY KEY changed (rows that collide make the migration fail)"));
        }
        let (b_unique, b_checks) = clauses(&renames.text(&key, &bc.def));
        let (a_unique, a_checks) = clauses(&ac.def_src);
        if a_unique && !b_unique {
            issue(Class::DataDependent, format!("{c}: UNIQUE added (rows with duplicate values make the migration fail)"));
        }
        for (_, check) in a_checks.iter().filter(|(norm, _)| !b_checks.iter().any(|(b, _)| b == norm)) {
            issue(Class::DataDependent, format!("{c}: {check} added (rows that break it make the migration fail)"));
        }
    }
    for ac in at.columns.iter().filter(|c| !kept.contains(&lc(&c.name))) {
        if needs_value(ac) {
            issue(Class::DataDependent, format!("column {t}.{} added NOT NULL without a DEFAULT (the migration fails if {t} has rows)", ac.name));
        }
    }
    let old_constraints: Vec<String> = bt.constraints.iter().map(|x| renames.text(&key, x)).collect();
    for x in at.constraints.iter().filter(|x| narrows(x) && !old_constraints.contains(x)) {
        issue(Class::DataDependent, format!("table {t}: constraint added: {x} (rows that break it make the migration fail)"));
    }
    let old_fks: Vec<ForeignKey> = bt.foreign_keys.iter().map(|f| renames.foreign_key(&key, f, after)).collect();
    for f in at.foreign_keys.iter().filter(|f| !old_fks.contains(f)) {
        issue(Class::DataDependent, format!("table {t}: foreign key added: {} (rows without a parent break it)", f.describe()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_reads_alter_table_forms() {
        let i = Intent::of([
            "ALTER TABLE \"Users\" RENAME TO people",
            "alter table main.people rename column email to mail",
            "ALTER TABLE t RENAME a TO b",
            "ALTER TABLE t DROP COLUMN c",
            "alter table t drop d",
            "ALTER TABLE t ADD COLUMN e",
            "CREATE TABLE x (a)",
        ]);
        assert_eq!(i.table_renames, [("users".to_string(), "people".to_string())]);
        assert_eq!(i.column_renames, [("people".into(), "email".into(), "mail".into()), ("t".to_string(), "a".to_string(), "b".to_string())]);
        assert_eq!(i.dropped_columns, [("t".to_string(), "c".to_string()), ("t".to_string(), "d".to_string())]);
    }

    #[test]
    fn class_names_round_trip() {
        for c in Class::ALL {
            assert_eq!(Class::parse(c.name()), Some(c));
        }
        assert_eq!(Class::parse("Destructive"), Some(Class::Destructive));
        assert_eq!(Class::parse("destroy"), None);
    }
}
