//! The schema of a database as plain data, read from SQLite itself: `sqlite_schema`
//! for the objects and their CREATE texts, `PRAGMA table_list / table_xinfo /
//! foreign_key_list / index_list / index_xinfo` for what SQLite makes of them. The texts
//! are kept normalized (see `tokens`) for what no PRAGMA exposes (CHECK, COLLATE,
//! constraint clauses), and as written for re-creating objects.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::tokens::{self, Kind, Tok};
use crate::core::error::Result;
use crate::sqlite::sql_error;

#[derive(Debug, Clone, Eq)]
pub struct Column {
    pub name: String,
    /// Declared type, upper-cased ("" when none).
    pub decl_type: String,
    pub notnull: bool,
    pub default: Option<String>,
    /// Position in the primary key (1-based); 0 when not part of it.
    pub pk: i64,
    /// `table_xinfo.hidden`: 0 normal, 2 generated VIRTUAL, 3 generated STORED.
    pub hidden: i64,
    /// The column's definition from the CREATE text, normalized.
    pub def: String,
    /// The same definition as written (for `ADD COLUMN`).
    pub def_src: String,
    /// Whether SQLite takes the DEFAULT as a constant (a literal, possibly signed, in
    /// parentheses or a CAST): only then can `ADD COLUMN` give it to existing rows.
    /// An expression or `CURRENT_TIMESTAMP` is refused there on a table with rows.
    pub constant_default: bool,
}

impl PartialEq for Column {
    /// Names compare as SQLite does, without regard to case; `def_src` is layout, and
    /// `constant_default` follows from `default`.
    fn eq(&self, o: &Column) -> bool {
        self.name.eq_ignore_ascii_case(&o.name)
            && (&self.decl_type, self.notnull, &self.default, self.pk, self.hidden, &self.def)
                == (&o.decl_type, o.notnull, &o.default, o.pk, o.hidden, &o.def)
    }
}

impl Column {
    pub fn generated(&self) -> bool {
        self.hidden == 2 || self.hidden == 3
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub from: Vec<String>,
    pub table: String,
    pub to: Vec<String>,
    pub on_update: String,
    pub on_delete: String,
}

impl ForeignKey {
    pub fn describe(&self) -> String {
        let mut s = format!("({}) -> {}({})", self.from.join(", "), self.table, self.to.join(", "));
        if self.on_delete != "NO ACTION" {
            s.push_str(&format!(" ON DELETE {}", self.on_delete));
        }
        if self.on_update != "NO ACTION" {
            s.push_str(&format!(" ON UPDATE {}", self.on_update));
        }
        s
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    /// The CREATE TABLE text as SQLite keeps it.
    pub sql: String,
    /// Byte offset of the `(` that opens the column list in `sql`.
    pub body_at: usize,
    pub virtual_table: bool,
    pub columns: Vec<Column>,
    /// Table constraints (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY clauses), normalized
    /// and sorted: their order in the text carries no meaning.
    pub constraints: Vec<String>,
    /// `without rowid`, `strict`, sorted.
    pub options: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    pub autoincrement: bool,
    /// For virtual tables, whose arguments SQLite does not describe: the whole text.
    pub norm: String,
}

impl PartialEq for Table {
    /// Equal when SQLite would treat them alike; the texts' layout does not count.
    fn eq(&self, o: &Table) -> bool {
        self.name.eq_ignore_ascii_case(&o.name)
            && self.virtual_table == o.virtual_table
            && self.columns == o.columns
            && self.constraints == o.constraints
            && self.options == o.options
            && self.foreign_keys == o.foreign_keys
            && self.autoincrement == o.autoincrement
            && (!self.virtual_table || self.norm == o.norm)
    }
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        let key = name.to_ascii_lowercase();
        self.columns.iter().find(|c| c.name.to_ascii_lowercase() == key)
    }
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub table: String,
    pub sql: String,
    pub norm: String,
    pub unique: bool,
    pub partial: bool,
    pub expression: bool,
    /// Key columns (`<expr>` for an expression).
    pub columns: Vec<String>,
}

impl PartialEq for Index {
    fn eq(&self, o: &Index) -> bool {
        self.norm == o.norm && self.unique == o.unique && self.partial == o.partial && self.columns == o.columns
    }
}

/// A view or a trigger: compared by its normalized text.
#[derive(Debug, Clone)]
pub struct Object {
    pub name: String,
    pub table: String,
    pub sql: String,
    pub norm: String,
}

impl PartialEq for Object {
    fn eq(&self, o: &Object) -> bool {
        self.norm == o.norm
    }
}

/// A whole schema, keyed by lower-cased name (SQLite names are case-insensitive), so
/// iteration order, and everything rendered from it, is deterministic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    pub indexes: BTreeMap<String, Index>,
    pub views: BTreeMap<String, Object>,
    pub triggers: BTreeMap<String, Object>,
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The objects of `conn`'s main database that its schema is made of, as
/// `(type, name, tbl_name, sql)` in creation (rowid) order: without SQLite's internal
/// objects and automatic indexes, virtual tables' shadow tables, and the tables named
/// in `exclude` (athanor's version and history tables) with their indexes and triggers.
pub fn user_objects(conn: &Connection, exclude: &[&str]) -> Result<Vec<(String, String, String, String)>> {
    let mut shadow = Vec::new();
    {
        let mut st = conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'").map_err(sql_error)?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(sql_error)?;
        for r in rows {
            shadow.push(key(&r.map_err(sql_error)?));
        }
    }
    let excluded = |t: &str| exclude.iter().any(|e| e.eq_ignore_ascii_case(t)) || key(t).starts_with("sqlite_") || shadow.contains(&key(t));
    let mut st = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid").map_err(sql_error)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(sql_error)?;
    let mut objects = Vec::new();
    for r in rows {
        let o: (String, String, String, String) = r.map_err(sql_error)?;
        if !excluded(&o.1) && !excluded(&o.2) {
            objects.push(o);
        }
    }
    Ok(objects)
}

impl Schema {
    /// Reads the schema of `conn`'s main database ([`user_objects`]).
    pub fn read(conn: &Connection, exclude: &[&str]) -> Result<Schema> {
        let mut s = Schema::default();
        let mut probe = DefaultProbe::default();
        for (kind, name, table, sql) in user_objects(conn, exclude)? {
            match kind.as_str() {
                "table" => {
                    let t = read_table(conn, &name, &sql, &mut probe)?;
                    s.tables.insert(key(&name), t);
                }
                "index" => {
                    let i = read_index(conn, &name, &table, &sql)?;
                    s.indexes.insert(key(&name), i);
                }
                "view" | "trigger" => {
                    let norm = tokens::normalize(&tokens::tokenize(&sql));
                    let o = Object { name: name.clone(), table, sql, norm };
                    if kind == "view" {
                        s.views.insert(key(&name), o)
                    } else {
                        s.triggers.insert(key(&name), o)
                    };
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// Whether a table or a view named `name` exists: a trigger sits on either, and
    /// goes when it does.
    pub fn owns_triggers(&self, name: &str) -> bool {
        let k = key(name);
        self.tables.contains_key(&k) || self.views.contains_key(&k)
    }

    /// Every index on `table`, in name order.
    pub fn indexes_on<'s>(&'s self, table: &'s str) -> impl Iterator<Item = &'s Index> + 's {
        self.indexes.values().filter(move |i| i.table.eq_ignore_ascii_case(table))
    }
}

const CONSTRAINT_WORDS: &[&str] = &["constraint", "primary", "unique", "check", "foreign"];

/// The pieces of a CREATE TABLE text: `(` offset, column definitions by lower-cased
/// name (normalized, as written), table constraints, options.
struct Parsed {
    body_at: usize,
    defs: BTreeMap<String, (String, String)>,
    constraints: Vec<String>,
    options: Vec<String>,
    autoincrement: bool,
}

/// The parts of a CREATE TABLE statement (`sql`, already tokenized as `toks`).
fn parse_create_table(sql: &str, toks: &[Tok]) -> Parsed {
    let mut p = Parsed { body_at: sql.len(), defs: BTreeMap::new(), constraints: vec![], options: vec![], autoincrement: false };
    let Some(open) = toks.iter().position(|t| t.kind == Kind::Punct && t.text == "(") else { return p };
    let close = tokens::matching_paren(toks, open).unwrap_or(toks.len());
    p.body_at = toks[open].start;
    p.autoincrement = toks.iter().any(|t| t.is("autoincrement"));
    for part in tokens::split_top_level(&toks[open + 1..close.min(toks.len())]) {
        let Some(first) = part.first() else { continue };
        let norm = tokens::normalize(part);
        if first.kind == Kind::Word && CONSTRAINT_WORDS.contains(&first.text.as_str()) {
            p.constraints.push(norm);
        } else {
            let src = sql[first.start..part[part.len() - 1].end].to_string();
            p.defs.insert(first.text.clone(), (norm, src));
        }
    }
    if close < toks.len() {
        for opt in tokens::split_top_level(&toks[close + 1..]) {
            let o: Vec<Tok> = opt.iter().filter(|t| t.text != ";").cloned().collect();
            if !o.is_empty() {
                p.options.push(tokens::normalize(&o));
            }
        }
    }
    p.constraints.sort();
    p.options.sort();
    p
}

fn read_table(conn: &Connection, name: &str, sql: &str, probe: &mut DefaultProbe) -> Result<Table> {
    let toks = tokens::tokenize(sql);
    let norm = tokens::normalize(&toks);
    let virtual_table = norm.starts_with("create virtual table");
    let parsed = if virtual_table {
        Parsed { body_at: sql.len(), defs: BTreeMap::new(), constraints: vec![], options: vec![], autoincrement: false }
    } else {
        parse_create_table(sql, &toks)
    };
    let mut columns = Vec::new();
    {
        let mut st =
            conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid").map_err(sql_error)?;
        let rows = st
            .query_map([name], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .map_err(sql_error)?;
        for r in rows {
            let (cname, ty, notnull, default, pk, hidden) = r.map_err(sql_error)?;
            if hidden == 1 {
                continue; // a virtual table's hidden column: part of its module, not declared
            }
            let (def, def_src) = parsed.defs.get(&key(&cname)).cloned().unwrap_or_default();
            let constant_default = probe.constant(default.as_deref())?;
            columns.push(Column {
                name: cname,
                decl_type: ty.to_ascii_uppercase(),
                notnull: notnull != 0,
                default,
                pk,
                hidden,
                def,
                def_src,
                constant_default,
            });
        }
    }
    let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    {
        let mut st = conn
            .prepare("SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
            .map_err(sql_error)?;
        let rows = st
            .query_map([name], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(sql_error)?;
        for r in rows {
            let (id, table, from, to, on_update, on_delete) = r.map_err(sql_error)?;
            let fk = fks.entry(id).or_insert_with(|| ForeignKey { from: vec![], table: key(&table), to: vec![], on_update, on_delete });
            fk.from.push(key(&from));
            // An omitted target column means the parent's primary key.
            fk.to.push(to.map(|t| key(&t)).unwrap_or_default());
        }
    }
    let mut foreign_keys: Vec<ForeignKey> = fks.into_values().collect();
    foreign_keys.sort();
    Ok(Table {
        name: name.to_string(),
        sql: sql.to_string(),
        body_at: parsed.body_at,
        virtual_table,
        columns,
        constraints: parsed.constraints,
        options: parsed.options,
        foreign_keys,
        autoincrement: parsed.autoincrement,
        norm,
    })
}

/// Asks SQLite whether a DEFAULT is constant, as `ALTER TABLE … ADD COLUMN` decides
/// it on a table with rows ("Cannot add a column with non-constant default"): on a
/// one-row scratch table, in a savepoint rolled back each time. Opened on first need:
/// a lone literal is answered without it.
#[derive(Default)]
struct DefaultProbe(Option<Connection>);

impl DefaultProbe {
    fn constant(&mut self, default: Option<&str>) -> Result<bool> {
        let Some(d) = default else { return Ok(true) };
        let toks = tokens::tokenize(d);
        if let [t] = toks.as_slice() {
            // A bare word is a string (or NULL, TRUE, FALSE), except these three.
            let current = ["current_time", "current_date", "current_timestamp"].contains(&t.text.as_str());
            return Ok(t.kind != Kind::Punct && !(t.kind == Kind::Word && current));
        }
        let c = match &mut self.0 {
            Some(c) => c,
            none => {
                let c = super::memory()?;
                c.execute_batch("CREATE TABLE p (x); INSERT INTO p VALUES (1)").map_err(sql_error)?;
                none.insert(c)
            }
        };
        // PRAGMA table_xinfo gives an expression DEFAULT without its parentheses.
        let added = c.execute_batch(&format!("SAVEPOINT probe; ALTER TABLE p ADD COLUMN c DEFAULT ({d})")).is_ok();
        c.execute_batch("ROLLBACK TO probe; RELEASE probe").map_err(sql_error)?;
        Ok(added)
    }
}

fn read_index(conn: &Connection, name: &str, table: &str, sql: &str) -> Result<Index> {
    let (unique, partial) = conn
        .query_row("SELECT \"unique\", partial FROM pragma_index_list(?1) WHERE name = ?2", [table, name], |r| {
            Ok((r.get::<_, i64>(0)? != 0, r.get::<_, i64>(1)? != 0))
        })
        .map_err(sql_error)?;
    let mut columns = Vec::new();
    let mut expression = false;
    let mut st = conn.prepare("SELECT cid, name FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno").map_err(sql_error)?;
    let rows = st.query_map([name], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))).map_err(sql_error)?;
    for r in rows {
        let (cid, col) = r.map_err(sql_error)?;
        if cid == -2 {
            expression = true;
            columns.push("<expr>".to_string());
        } else {
            columns.push(col.map(|c| key(&c)).unwrap_or_else(|| "rowid".into()));
        }
    }
    let norm = tokens::normalize(&tokens::tokenize(sql));
    Ok(Index { name: name.to_string(), table: table.to_string(), sql: sql.to_string(), norm, unique, partial, expression, columns })
}
