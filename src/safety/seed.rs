//! `test --seed`: a few rows in every table before each step, so that a migration that
//! fails only on data (a NOT NULL or UNIQUE added, a copy that drops a value) fails in
//! the test too. Deterministic and simple: each row's values are numbered from one
//! counter (distinct, so UNIQUE and primary keys hold) and typed by the column's
//! affinity; a column with a literal DEFAULT gets that first (a `'{}'` JSON column stays
//! JSON). A row SQLite refuses (a CHECK) is tried again with the next candidate of the
//! columns its message names (all of them when it names none): the literals the table's
//! CHECKs mention, NULL where allowed (a CHECK passes on NULL), 0, 1 and ''. Virtual
//! tables are left out. A table that takes no row is reported, not an error.

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::autogen::diff::affinity;
use crate::autogen::model::{Column, Schema, Table};
use crate::autogen::tokens::{matching_paren, quote, tokenize, Kind, Tok};
use crate::core::error::Result;
use crate::sqlite::runner::sqlite_message;

/// Rows added to each table at each seeding.
pub const ROWS_PER_TABLE: usize = 2;
/// Tries per row before the table is given up.
const ATTEMPTS: usize = 12;

/// Numbers the rows of one test run.
#[derive(Debug, Default)]
pub struct Seeder {
    next: i64,
}

impl Seeder {
    /// Adds [`ROWS_PER_TABLE`] rows to every table of `schema` (as read from `conn`).
    /// Returns the tables that took none, each with SQLite's last reason.
    pub fn seed(&mut self, conn: &Connection, schema: &Schema) -> Result<Vec<(String, String)>> {
        let mut refused = Vec::new();
        for table in schema.tables.values().filter(|t| !t.virtual_table) {
            for _ in 0..ROWS_PER_TABLE {
                self.next += 1;
                if let Some(reason) = insert_row(conn, table, self.next) {
                    refused.push((table.name.clone(), reason));
                    break;
                }
            }
        }
        Ok(refused)
    }
}

/// One row into `table`, numbered `n`: `None` when it went in, else SQLite's reason.
fn insert_row(conn: &Connection, table: &Table, n: i64) -> Option<String> {
    let columns: Vec<&Column> = table.columns.iter().filter(|c| !c.generated()).collect();
    let literals = check_literals(&table.sql);
    let candidates: Vec<Vec<Value>> = columns.iter().map(|c| candidates(c, n, &literals)).collect();
    let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    let sql = format!("INSERT INTO {} ({}) VALUES ({})", quote(&table.name), names.join(", "), marks.join(", "));
    let mut pick = vec![0usize; columns.len()];
    let mut reason = String::new();
    for _ in 0..ATTEMPTS {
        let values = candidates.iter().zip(&pick).map(|(c, &i)| &c[i]);
        match conn.prepare_cached(&sql).and_then(|mut st| st.execute(rusqlite::params_from_iter(values))) {
            Ok(_) => return None,
            Err(e) => reason = sqlite_message(&e),
        }
        let words: Vec<String> = tokenize(&reason).into_iter().filter(|t| matches!(t.kind, Kind::Word | Kind::Quoted)).map(|t| t.text).collect();
        let named: Vec<usize> = (0..columns.len()).filter(|&i| words.contains(&columns[i].name.to_ascii_lowercase())).collect();
        let targets = if named.is_empty() { (0..columns.len()).collect() } else { named };
        let mut moved = false;
        for i in targets {
            if pick[i] + 1 < candidates[i].len() {
                pick[i] += 1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    Some(reason)
}

/// The values tried for a column, in order.
fn candidates(c: &Column, n: i64, literals: &[Value]) -> Vec<Value> {
    let mut v = Vec::new();
    if let Some(d) = c.default.as_deref().and_then(literal_value) {
        v.push(d);
    }
    v.push(typed(&c.decl_type, n));
    v.extend(literals.iter().cloned());
    if !c.notnull {
        v.push(Value::Null);
    }
    v.extend([Value::Integer(0), Value::Integer(1), Value::Text(String::new())]);
    v
}

/// A value of the column's affinity, numbered `n`.
fn typed(decl_type: &str, n: i64) -> Value {
    match affinity(decl_type) {
        "INTEGER" | "NUMERIC" => Value::Integer(n),
        "REAL" => Value::Real(n as f64 + 0.5),
        "BLOB" if !decl_type.is_empty() => Value::Blob(format!("seed-{n}").into_bytes()),
        _ => Value::Text(format!("seed-{n}")),
    }
}

/// A DEFAULT that is one literal (`'{}'`, `0`, `-1`) as a value; `None` for NULL or
/// an expression.
fn literal_value(default: &str) -> Option<Value> {
    match tokenize(default).as_slice() {
        [t] => token_value(t),
        [sign, t] if sign.kind == Kind::Punct && sign.text == "-" => match token_value(t)? {
            Value::Integer(i) => Some(Value::Integer(-i)),
            Value::Text(x) => Some(Value::Text(format!("-{x}"))),
            _ => None,
        },
        _ => None,
    }
}

fn token_value(t: &Tok) -> Option<Value> {
    match t.kind {
        Kind::Str => {
            let inner = t.text.strip_prefix('\'').unwrap_or(&t.text);
            Some(Value::Text(inner.strip_suffix('\'').unwrap_or(inner).replace("''", "'")))
        }
        // Not parsed as a float (its tables cost the wasm 10 KiB): as text, which the
        // column's affinity converts.
        Kind::Num => Some(t.text.parse::<i64>().map_or_else(|_| Value::Text(t.text.clone()), Value::Integer)),
        _ => None,
    }
}

/// The string and number literals inside the CHECK clauses of a CREATE TABLE text
/// (`CHECK (status IN ('draft', 'sent'))`), each once, in order.
fn check_literals(sql: &str) -> Vec<Value> {
    let toks = tokenize(sql);
    let mut out: Vec<Value> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !t.is("check") || toks.get(i + 1).is_none_or(|p| p.text != "(") {
            continue;
        }
        let end = matching_paren(&toks, i + 1).unwrap_or(toks.len());
        for v in toks[i + 1..end].iter().filter_map(token_value) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn fills_typed_unique_checked_and_defaulted_columns() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE a (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, score REAL, data BLOB, x);
             CREATE TABLE b (k TEXT PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('draft', 'sent')), n INT CHECK (n > 100 OR n IS NULL)) WITHOUT ROWID;
             CREATE TABLE c (id INTEGER PRIMARY KEY, payload TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)), g AS (id * 2));
             CREATE VIRTUAL TABLE f USING fts5(body);",
        )
        .unwrap();
        let schema = Schema::read(&conn, &[]).unwrap();
        let mut seeder = Seeder::default();
        assert_eq!(seeder.seed(&conn, &schema).unwrap(), vec![]);
        assert_eq!(seeder.seed(&conn, &schema).unwrap(), vec![]);
        for t in ["a", "b", "c"] {
            assert_eq!(count(&conn, t), 2 * ROWS_PER_TABLE as i64, "{t}");
        }
        assert_eq!(count(&conn, "f"), 0);
        let statuses: i64 = conn.query_row("SELECT count(*) FROM b WHERE status IN ('draft', 'sent')", [], |r| r.get(0)).unwrap();
        assert_eq!(statuses, 4);
    }

    #[test]
    fn a_table_that_takes_nothing_is_reported() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE z (v INTEGER NOT NULL CHECK (v < 0 AND v > 0))").unwrap();
        let schema = Schema::read(&conn, &[]).unwrap();
        let refused = Seeder::default().seed(&conn, &schema).unwrap();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, "z");
        assert!(refused[0].1.starts_with("CHECK constraint failed"), "{}", refused[0].1);
    }
}
