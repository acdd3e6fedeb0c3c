//! Autogenerate: compare the schema the migrations build with a declared one (a
//! `schema.sql`) and write the SQL between them, as Alembic's `--autogenerate` does
//! for SQLAlchemy models.
//!
//! [`model`] reads a schema from SQLite itself, [`diff`] compares two (pure),
//! [`render`] writes the upgrade and the inverse downgrade. Both sides are built in
//! scratch in-memory databases here, so nothing real is touched.

pub mod diff;
pub mod model;
pub mod rename;
pub mod render;
pub mod tokens;

use rusqlite::{Connection, OptionalExtension};

use crate::core::error::{one_line, Error, Result};
use crate::core::graph::RevisionMap;
use crate::core::statements::split_statements;
use crate::core::version_sql::HISTORY_TABLE;
use crate::sqlite::runner::{execute_one, sqlite_message, Engine, Options};

pub use diff::{diff, Change};
pub use model::Schema;
pub use rename::Renames;
pub use render::{render, render_around, Rendered};

/// A generated revision body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// One line per detected change, in order.
    pub changes: Vec<String>,
    pub upgrade: Rendered,
    pub downgrade: Rendered,
}

/// The revision that turns `current` into `declared`; `None` when they agree.
pub fn generate(current: &Schema, declared: &Schema) -> Option<Generated> {
    let up = diff(current, declared);
    if up.is_empty() {
        return None;
    }
    let down = diff(declared, current);
    Some(Generated { changes: describe(&up), upgrade: render(current, declared, &up, false), downgrade: render(declared, current, &down, true) })
}

/// [`generate`] with renames the author declared: they run first, as `ALTER TABLE …
/// RENAME`, and the rest of the changes start from the renamed schema; the downgrade
/// undoes them last. A hint that does not fit the two schemas is a `USAGE` error.
pub fn generate_renaming(current: &Schema, declared: &Schema, renames: &Renames) -> Result<Option<Generated>> {
    if renames.is_empty() {
        return Ok(generate(current, declared));
    }
    let r = rename::apply(current, declared, renames)?;
    let up = diff(&r.schema, declared);
    let down = diff(declared, &r.schema);
    let mut changes: Vec<String> = r.renames.iter().map(rename::Rename::describe).collect();
    changes.extend(describe(&up));
    Ok(Some(Generated {
        changes,
        upgrade: render_around(&r.schema, declared, &up, false, &r.upgrade, ""),
        downgrade: render_around(declared, &r.schema, &down, true, "", &r.downgrade),
    }))
}

/// The changes as lines, as `check` lists them.
pub fn describe(changes: &[Change]) -> Vec<String> {
    changes.iter().flat_map(|c| c.notes.iter().map(|n| n.text.clone())).collect()
}

/// A scratch database with foreign keys off, as the CLI's own connections have them
/// (the bundled SQLite turns them on by default; histories such as memos' need them off).
pub(crate) fn memory() -> Result<Connection> {
    let conn = Connection::open_in_memory().map_err(crate::sqlite::sql_error)?;
    conn.execute_batch("PRAGMA foreign_keys = OFF").map_err(crate::sqlite::sql_error)?;
    Ok(conn)
}

/// A copy of the schema of a database reached only through the connection primitives
/// (the npm CLI's node:sqlite), in a scratch database autogenerate and adopt can read:
/// its `CREATE` statements replayed in creation order. Left out as SQLite refuses them:
/// objects a statement before made already (a virtual table's shadow tables) and
/// SQLite's internal ones. A statement that needs a later one (a view over a table
/// rebuilt after it) is tried again once the others ran.
pub fn schema_copy<C: crate::core::connection::Connection + ?Sized>(conn: &mut C) -> Result<Connection> {
    let mut pending = crate::core::connection::values(conn, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid", &[])?;
    let copy = memory()?;
    while !pending.is_empty() {
        let mut failed = Vec::new();
        let mut first_error = None;
        for sql in pending.iter() {
            match copy.execute_batch(sql) {
                Ok(()) => {}
                Err(e) => {
                    let message = sqlite_message(&e);
                    if message.contains("already exists") || message.contains("reserved for internal use") {
                        continue;
                    }
                    first_error.get_or_insert(e);
                    failed.push(sql.clone());
                }
            }
        }
        if failed.len() == pending.len() {
            return Err(first_error.map(crate::sqlite::sql_error).unwrap_or_else(|| Error::Sqlite { message: "schema copy".into(), code: None }));
        }
        pending = failed;
    }
    Ok(copy)
}

/// The schema `sql` declares, built in a scratch database. A statement SQLite refuses
/// is a `PARSE_ERROR` naming `file` and the statement's line, and so is a TEMP object:
/// it would vanish with the connection, so no migration can create it for good.
pub fn schema_of_sql(file: &str, sql: &str) -> Result<Schema> {
    let conn = memory()?;
    run_declared(&conn, file, sql, false)?;
    // Looked for once at the end; only when there is one, run again to find its line.
    if temp_object(&conn)?.is_some() {
        run_declared(&memory()?, file, sql, true)?;
    }
    Schema::read(&conn, &[])
}

/// Runs the declared statements; with `find_temp`, stops at the first that creates a
/// TEMP object.
fn run_declared(conn: &Connection, file: &str, sql: &str, find_temp: bool) -> Result<()> {
    for st in split_statements(sql, 1) {
        execute_one(conn, &st.sql)
            .map_err(|e| Error::parse(file, st.line, format!("{} (statement: {})", sqlite_message(&e), one_line(st.code()))))?;
        if let Some((kind, name)) = if find_temp { temp_object(conn)? } else { None } {
            let why = "is not part of the database's schema (declare it without TEMP, or create it when the app connects)";
            return Err(Error::parse(file, st.line, format!("TEMP {kind} {name} {why}")));
        }
    }
    Ok(())
}

fn temp_object(conn: &Connection) -> Result<Option<(String, String)>> {
    conn.query_row("SELECT type, name FROM temp.sqlite_schema LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(crate::sqlite::sql_error)
}

/// The schema at the migrations' heads: every migration applied to a scratch
/// in-memory database.
pub fn head_schema(map: &RevisionMap, version_table: &str) -> Result<Schema> {
    let conn = memory()?;
    let options = Options { version_table: version_table.to_string(), ..Options::default() };
    Engine::new(&conn, map, options).upgrade("heads", &mut |_| {})?;
    Schema::read(&conn, &[version_table, HISTORY_TABLE])
}
