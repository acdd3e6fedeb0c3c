//! Renames the author declares (`--rename old=new`, `--rename table.old=new`): never
//! guessed (a renamed column looks exactly like a drop and an add), but when told,
//! written as SQLite's `ALTER TABLE … RENAME TO` / `RENAME COLUMN`, which keep the
//! data, instead of a drop and an add, which lose it.
//!
//! The renames are applied to the current schema by SQLite itself, in a scratch
//! database, so that indexes, views, triggers and foreign keys naming the old name
//! follow as they will in the real database; the rest of the diff starts from there.

use super::model::Schema;
use super::tokens::quote;
use crate::core::error::{Error, Result};

/// One declared rename: of table `from` (`table` is `None`), or of column `from` of
/// `table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub table: Option<String>,
    pub from: String,
    pub to: String,
}

impl Rename {
    /// Parses a hint: `old=new` renames a table, `table.old=new` one of its columns.
    pub fn parse(hint: &str) -> Result<Rename> {
        let bad = || Error::Usage(format!("--rename '{hint}': expected OLD=NEW (a table) or TABLE.OLD=NEW (a column)"));
        let (left, to) = hint.split_once('=').ok_or_else(bad)?;
        let (table, from) = match left.split_once('.') {
            Some((t, f)) => (Some(t.trim().to_string()), f.trim()),
            None => (None, left.trim()),
        };
        let to = to.trim();
        let ok = |s: &str| !s.is_empty() && !s.contains(['=', '.']);
        if !ok(from) || !ok(to) || table.as_deref().is_some_and(|t| !ok(t)) {
            return Err(bad());
        }
        Ok(Rename { table, from: from.into(), to: to.into() })
    }

    /// `table.` for a column, nothing for a table.
    fn prefix(&self) -> String {
        self.table.as_ref().map(|t| format!("{t}.")).unwrap_or_default()
    }

    /// The line `check` and the comments show.
    pub fn describe(&self) -> String {
        let kind = if self.table.is_some() { "column" } else { "table" };
        format!("rename {kind} {}{} to {}", self.prefix(), self.from, self.to)
    }

    fn sql(&self) -> String {
        match &self.table {
            Some(t) => format!("ALTER TABLE {} RENAME COLUMN {} TO {}", quote(t), quote(&self.from), quote(&self.to)),
            None => format!("ALTER TABLE {} RENAME TO {}", quote(&self.from), quote(&self.to)),
        }
    }

    fn inverse(&self) -> Rename {
        Rename { table: self.table.clone(), from: self.to.clone(), to: self.from.clone() }
    }
}

/// The renames as given, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames(pub Vec<Rename>);

impl Renames {
    pub fn parse(hints: &[String]) -> Result<Renames> {
        hints.iter().map(|h| Rename::parse(h)).collect::<Result<Vec<_>>>().map(Renames)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks the hints against `current` (where the old names must exist and the new
    /// ones must not) and `declared` (where the new names must exist, or the renamed
    /// object would be dropped straight away), spelled as the schemas spell them, in
    /// the order they run: tables first, then columns, named by their table's new name
    /// (a hint may name it by either).
    fn resolve(&self, current: &Schema, declared: &Schema) -> Result<Vec<Rename>> {
        let (tables, columns): (Vec<&Rename>, Vec<&Rename>) = self.0.iter().partition(|r| r.table.is_none());
        let mut out: Vec<Rename> = vec![];
        for r in tables {
            let fail = |why: String| Error::Usage(format!("--rename {}{}={}: {why}", r.prefix(), r.from, r.to));
            let t = current.tables.get(&r.from.to_ascii_lowercase()).ok_or_else(|| fail(format!("no table {} to rename", r.from)))?;
            let d = declared.tables.get(&r.to.to_ascii_lowercase()).ok_or_else(|| fail(format!("the declared schema has no table {}", r.to)))?;
            if current.tables.contains_key(&r.to.to_ascii_lowercase()) {
                return Err(fail(format!("table {} already exists", r.to)));
            }
            out.push(Rename { table: None, from: t.name.clone(), to: d.name.clone() });
        }
        let renamed = out.clone();
        for r in columns {
            let fail = |why: String| Error::Usage(format!("--rename {}{}={}: {why}", r.prefix(), r.from, r.to));
            let named = r.table.clone().unwrap_or_default();
            // (old name, new name) of the table, whichever the hint used.
            let (old, new) = renamed
                .iter()
                .find(|t| t.from.eq_ignore_ascii_case(&named) || t.to.eq_ignore_ascii_case(&named))
                .map_or((named.clone(), named.clone()), |t| (t.from.clone(), t.to.clone()));
            let cur = current.tables.get(&old.to_ascii_lowercase()).ok_or_else(|| fail(format!("no table {named}")))?;
            let dec = declared.tables.get(&new.to_ascii_lowercase()).ok_or_else(|| fail(format!("the declared schema has no table {new}")))?;
            let c = cur.column(&r.from).ok_or_else(|| fail(format!("table {} has no column {} to rename", cur.name, r.from)))?;
            let d = dec.column(&r.to).ok_or_else(|| fail(format!("the declared table {} has no column {}", dec.name, r.to)))?;
            if cur.column(&r.to).is_some() {
                return Err(fail(format!("table {} already has a column {}", cur.name, r.to)));
            }
            out.push(Rename { table: Some(dec.name.clone()), from: c.name.clone(), to: d.name.clone() });
        }
        Ok(out)
    }
}

/// `current` with the renames applied, and the statements (with their comment lines)
/// that apply them and that undo them, each in the order it runs.
pub struct Applied {
    pub schema: Schema,
    pub renames: Vec<Rename>,
    pub upgrade: String,
    pub downgrade: String,
}

pub fn apply(current: &Schema, declared: &Schema, renames: &Renames) -> Result<Applied> {
    let renames = renames.resolve(current, declared)?;
    let sql_err = crate::sqlite::sql_error;
    let conn = super::memory()?;
    // Every object first (a view may name a table created after it), then the renames,
    // which SQLite refuses while any view or trigger does not resolve.
    let mut all = String::new();
    let texts = current.tables.values().map(|t| &t.sql).chain(current.indexes.values().map(|i| &i.sql));
    for sql in texts.chain(current.views.values().map(|v| &v.sql)).chain(current.triggers.values().map(|t| &t.sql)) {
        all.push_str(sql);
        all.push_str(";\n");
    }
    conn.execute_batch(&all).map_err(sql_err)?;
    let (mut upgrade, mut downgrade) = (String::new(), String::new());
    for r in &renames {
        conn.execute_batch(&r.sql()).map_err(|e| Error::Usage(format!("{}: {}", r.describe(), sql_err(e))))?;
        upgrade.push_str(&format!("-- {}\n{};\n", r.describe(), r.sql()));
    }
    for r in renames.iter().rev().map(Rename::inverse) {
        downgrade.push_str(&format!("-- {}\n{};\n", r.describe(), r.sql()));
    }
    Ok(Applied { schema: Schema::read(&conn, &[])?, renames, upgrade, downgrade })
}
