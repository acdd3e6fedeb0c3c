//! `adopt`: a base revision for a database made without migrations, from its own
//! `CREATE` statements, and the database stamped at it.

use rusqlite::Connection;

use super::args::Args;
use super::authoring::generate;
use super::commands::{map_of, open_db, read_files, run_on};
use super::host::Host;
use super::Output;
use crate::autogen::model::user_objects;
use crate::autogen::tokens::quote;
use crate::core::connection;
use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::core::plan;
use crate::core::run::{Options, TransactionMode};
use crate::core::script::{self, Section};
use crate::core::version_sql::HISTORY_TABLE;

pub const DEFAULT_MESSAGE: &str = "adopt existing schema";

/// One schema object as `sqlite_schema` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: String,
    pub name: String,
    pub sql: String,
    /// A table's foreign keys' parent tables (itself left out).
    pub references: Vec<String>,
}

/// The objects that make up `conn`'s schema, in an order that creates them: tables,
/// then views, indexes and triggers, each kind in creation (rowid) order, so a view
/// comes after the views it reads and a trigger after its table or view. Left out:
/// SQLite's own objects, automatic indexes, virtual tables' shadow tables and the
/// version and history tables (`exclude`).
pub fn objects(conn: &Connection, exclude: &[&str]) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    for (kind, name, _, sql) in user_objects(conn, exclude)? {
        let references = if kind == "table" { parents(conn, &name) } else { vec![] };
        out.push(Object { kind, name, sql, references });
    }
    let rank = |k: &str| match k {
        "table" => 0,
        "view" => 1,
        "index" => 2,
        _ => 3,
    };
    // A stable sort keeps the creation order within each kind.
    out.sort_by_key(|o| rank(&o.kind));
    Ok(out)
}

/// The tables `table`'s foreign keys refer to, itself left out (none for a virtual table).
fn parents(conn: &Connection, table: &str) -> Vec<String> {
    let Ok(mut st) = conn.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)") else {
        return vec![];
    };
    let Ok(rows) = st.query_map([table], |r| r.get::<_, String>(0)) else {
        return vec![];
    };
    rows.filter_map(|r| r.ok()).filter(|t| !t.eq_ignore_ascii_case(table)).collect()
}

/// The upgrade (each `CREATE` as the database holds it) and the downgrade: views then
/// tables dropped in reverse creation order (their indexes and triggers go with them),
/// a table only once no table left refers to it (a rebuilt parent table was created
/// after its children), so that with foreign keys on, rows in a child never stop the
/// parent's drop.
pub fn sections(objects: &[Object]) -> (String, String) {
    let up: Vec<String> = objects.iter().map(|o| format!("{};\n", o.sql)).collect();
    let mut left: Vec<&Object> = objects.iter().rev().filter(|o| o.kind == "table" || o.kind == "view").collect();
    let mut down = String::new();
    while !left.is_empty() {
        let unreferenced = |o: &Object| !left.iter().any(|x| x.references.iter().any(|r| r.eq_ignore_ascii_case(&o.name)));
        // A cycle of foreign keys: reverse creation order.
        let i = left.iter().position(|o| unreferenced(o)).unwrap_or(0);
        let o = left.remove(i);
        down.push_str(&format!("DROP {} IF EXISTS {};\n", o.kind.to_ascii_uppercase(), quote(&o.name)));
    }
    (up.join("\n"), down)
}

/// `adopt [-m MSG] [--rev-id ID] [--write-schema]`.
pub fn adopt(args: &Args, dir: &str, host: &dyn Host, out: &mut Output) -> Result<()> {
    if !args.positional.is_empty() {
        return Err(Error::Usage(format!("adopt takes no positional arguments (got '{}')", args.positional.join(" "))));
    }
    let db = args.global.db.as_deref().ok_or_else(|| Error::Usage("'adopt' needs a database: pass --db PATH".into()))?;
    let map = if host.exists(dir) { map_of(&read_files(host, dir)?)? } else { RevisionMap::new(vec![])? };
    if !map.nodes.is_empty() {
        return Err(Error::Usage(format!(
            "migrations directory '{dir}' already has revisions: adopt writes the first one (use an empty directory, or --dir)"
        )));
    }
    let schema_path = args.global.schema.clone().unwrap_or_else(|| "schema.sql".into());
    if args.write_schema && host.exists(&schema_path) {
        return Err(Error::Usage(format!("schema file '{schema_path}' already exists: adopt --write-schema does not overwrite it")));
    }
    let table = args.global.version_table.clone().unwrap_or_else(|| "alembic_version".into());
    let mut conn = open_db(args, host, db, false)?.ok_or_else(|| Error::Io(format!("database '{db}' does not exist")))?;
    let rows = connection::read_rows(&mut *conn, &table)?;
    if !rows.is_empty() {
        return Err(Error::Usage(format!(
            "database '{db}' is already under migrations ({table} holds {}): use upgrade or stamp instead",
            rows.join(", ")
        )));
    }
    let objects = objects(&*conn.schema()?, &[&table, HISTORY_TABLE])?;
    if objects.is_empty() {
        return Err(Error::Usage(format!("database '{db}' has no tables, views, indexes or triggers: nothing to adopt")));
    }
    let (up, down) = sections(&objects);
    if let Some(id) = &args.rev_id {
        // Checked before the directory is made, so a bad id leaves nothing behind.
        script::check_identifier("revision identifier", id).map_err(Error::Usage)?;
    }
    if !host.exists(dir) {
        host.create_dir(dir)?;
    }
    let mut args = args.clone();
    if args.message.is_none() {
        args.message = Some(DEFAULT_MESSAGE.into());
    }
    args.head = None;
    let (id, path) = generate(&map, &args, dir, host, &["base".to_string()], Some((Section::new(up.clone()), Section::new(down))), out)?;
    let mut wrote_schema = false;
    let result = (|| {
        if args.write_schema {
            host.create_file(&schema_path, &up)?;
            wrote_schema = true;
            out.stdout.push_str(&format!("Generating {schema_path} ...  done\n"));
        }
        let map = map_of(&read_files(host, dir)?)?;
        let options = Options { version_table: table.clone(), transaction: TransactionMode::All };
        let targets = std::slice::from_ref(&id);
        let report = run_on(&mut *conn, &map, &options, false, &|rows| plan::plan_stamp(&map, rows, targets, false), None, &mut |_| {})?;
        for step in &report.plan.steps {
            out.stderr.push_str(&format!("INFO  [athanor] Running {}\n", step.log(&map)));
        }
        Ok(())
    })();
    if result.is_err() {
        // Nothing changed: the files written are removed again.
        let _ = host.remove_file(&path);
        if wrote_schema {
            let _ = host.remove_file(&schema_path);
        }
    }
    result
}
