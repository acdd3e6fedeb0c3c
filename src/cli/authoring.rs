//! Writing migrations: `init`, `revision` and `merge`, as Alembic's commands do.

use super::args::Args;
use super::config::{CONFIG_FILE, CONFIG_TEMPLATE};
use super::host::Host;
use super::Output;
#[cfg(feature = "autogen")]
use crate::autogen::{self, Schema};
use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::core::script::{self, render, Script, Section};
use crate::core::source::slug;
use crate::core::target::Pos;

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// `init [DIR]`: the migrations directory and `athanor.ini`.
pub fn init(args: &Args, dir: &str, host: &dyn Host, out: &mut Output) -> Result<()> {
    let dir = args.positional.first().map(String::as_str).unwrap_or(dir);
    if host.exists(dir) && !host.dir_is_empty(dir)? {
        return Err(Error::Usage(format!("Directory {dir} already exists and is not empty")));
    }
    out.stdout.push_str(&format!("Creating directory {dir} ...  done\n"));
    host.create_dir(dir)?;
    if host.exists(CONFIG_FILE) {
        out.stdout.push_str(&format!("File {CONFIG_FILE} already exists, skipping\n"));
    } else {
        let text = CONFIG_TEMPLATE.replace("dir = migrations", &format!("dir = {dir}"));
        host.create_file(CONFIG_FILE, &text)?;
        out.stdout.push_str(&format!("Generating {CONFIG_FILE} ...  done\n"));
    }
    out.stdout.push_str(&format!("Please edit {CONFIG_FILE} to set the database (db = app.db), or pass --db.\n"));
    Ok(())
}

/// The revisions a new revision is based on, checked as Alembic's `generate_revision`.
fn base_revisions(map: &RevisionMap, heads: &[String], splice: bool) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for h in heads {
        let revs = map.get_revisions(h).map_err(|e| match e {
            Error::MultipleHeads { argument, heads, .. } => Error::MultipleHeads {
                argument,
                heads,
                message:
                    "Multiple heads are present; please specify the head revision on which the new revision should be based, or perform a merge."
                        .into(),
            },
            other => other,
        })?;
        for p in revs {
            match p {
                Pos::Rev(r) => {
                    if out.contains(&r) {
                        return Err(Error::Usage("Duplicate head revisions specified".into()));
                    }
                    out.push(r);
                }
                Pos::Nothing | Pos::Base => {}
            }
        }
    }
    if !splice {
        if let Some(&r) = out.iter().find(|&&r| !map.node(r).is_head()) {
            return Err(Error::Usage(format!(
                "Revision {} is not a head revision; please specify --splice to create a new branch from this revision",
                map.id(r)
            )));
        }
    }
    Ok(out)
}

/// Writes a new revision based on `heads`, after checking that the migrations with it
/// still form a valid map.
/// `body`: the upgrade and downgrade sections (empty ones when `None`). Returns the new
/// revision's id and file path.
pub(super) fn generate(
    map: &RevisionMap,
    args: &Args,
    dir: &str,
    host: &dyn Host,
    heads: &[String],
    body: Option<(Section, Section)>,
    out: &mut Output,
) -> Result<(String, String)> {
    let id = args.rev_id.clone().unwrap_or_else(|| host.random_hex(12));
    script::check_identifier("revision identifier", &id).map_err(Error::Usage)?;
    for label in &args.branch_labels {
        script::check_identifier("branch label", label).map_err(Error::Usage)?;
    }
    if let Some(existing) = map.index_of(&id) {
        return Err(Error::DuplicateRevision { revision: id, first: map.node(existing).script.path.clone(), second: "(new)".into() });
    }
    let parents = base_revisions(map, heads, args.splice)?;
    let mut depends_on = Vec::new();
    for d in &args.depends_on {
        // Keep a branch label as written; resolve a partial id to the full one.
        let r = map.get_revision(d)?.ok_or_else(|| Error::Usage(format!("--depends-on {d} names no revision")))?;
        depends_on.push(if map.node(r).labels.contains(d) { d.clone() } else { map.id(r).to_string() });
    }
    let message = args.message.clone().unwrap_or_default();
    let file_name = format!("{id}_{}.sql", slug(&message));
    let path = join(dir, &file_name);
    let new = Script {
        id: id.clone(),
        parents: parents.iter().map(|&p| map.id(p).to_string()).collect(),
        branch_labels: args.branch_labels.clone(),
        depends_on,
        create_date: Some(host.now()),
        message: if message.is_empty() { "empty message".into() } else { message },
        upgrade: body.as_ref().map(|b| b.0.clone()).unwrap_or_else(|| Section::new("")),
        downgrade: Some(body.map(|b| b.1).unwrap_or_else(|| Section::new(""))),
        file_name: file_name.clone(),
        path: path.clone(),
    };
    let mut all: Vec<Script> = map.nodes.iter().map(|n| n.script.clone()).collect();
    all.push(new.clone());
    RevisionMap::new(all)?;
    host.create_file(&path, &render(&new))?;
    out.stdout.push_str(&format!("Generating {path} ...  done\n"));
    Ok((id, path))
}

/// `revision -m MSG`: a new empty revision on the current head (or `--head`).
pub fn revision(map: &RevisionMap, args: &Args, dir: &str, host: &dyn Host, out: &mut Output) -> Result<()> {
    if !args.positional.is_empty() {
        return Err(Error::Usage(format!("revision takes no positional arguments (got '{}'); use -m MESSAGE", args.positional.join(" "))));
    }
    if !args.renames.is_empty() && !args.autogenerate {
        return Err(Error::Usage("--rename needs --autogenerate".into()));
    }
    let head = args.head.clone().unwrap_or_else(|| "head".into());
    #[cfg_attr(not(feature = "autogen"), allow(unused_mut))]
    let mut body = None;
    #[cfg(not(feature = "autogen"))]
    if args.autogenerate {
        return Err(super::commands::without_autogen());
    }
    #[cfg(feature = "autogen")]
    if args.autogenerate {
        let renames = autogen::Renames::parse(&args.renames)?;
        let (current, declared) = schemas(map, args, host)?;
        let Some(g) = autogen::generate_renaming(&current, &declared, &renames)? else {
            // Unlike Alembic, which writes an empty revision, nothing is written.
            out.stdout.push_str("No changes in schema detected.\n");
            return Ok(());
        };
        for c in &g.changes {
            out.stderr.push_str(&format!("INFO  [athanor] Detected {c}\n"));
        }
        let section = |r: &autogen::Rendered| Section { sql: r.sql.clone(), first_line: 1, transactional: r.transactional };
        body = Some((section(&g.upgrade), section(&g.downgrade)));
    }
    generate(map, args, dir, host, &[head], body, out).map(|_| ())
}

/// `merge -m MSG REVS...`: a revision whose parents are REVS.
pub fn merge(map: &RevisionMap, args: &Args, dir: &str, host: &dyn Host, out: &mut Output) -> Result<()> {
    if args.positional.is_empty() {
        return Err(Error::Usage("merge needs the revisions to merge (e.g. heads)".into()));
    }
    generate(map, args, dir, host, &args.positional, None, out).map(|_| ())
}

#[cfg(feature = "autogen")]
/// The schema to compare from and the declared one. From: the `--db` database, which
/// must be at the heads, or else the heads' schema built in a scratch database.
fn schemas(map: &RevisionMap, args: &Args, host: &dyn Host) -> Result<(Schema, Schema)> {
    let path = args.global.schema.clone().unwrap_or_else(|| "schema.sql".into());
    let text = host
        .read_text(&path)?
        .ok_or_else(|| Error::Io(format!("schema file '{path}' does not exist (declare the schema there, or pass --schema PATH)")))?;
    let declared = autogen::schema_of_sql(&path, &text)?;
    let table = args.global.version_table.clone().unwrap_or_else(|| "alembic_version".into());
    let current = match &args.global.db {
        None => autogen::head_schema(map, &table)?,
        Some(db) => {
            let mut conn = super::commands::open_db(args, host, db, false)?;
            let rows = match &mut conn {
                Some(c) => crate::core::connection::read_rows(&mut **c, &table)?,
                None => vec![],
            };
            let mut have = rows.clone();
            have.sort();
            let mut heads: Vec<String> = map.heads.iter().map(|&h| map.id(h).to_string()).collect();
            heads.sort();
            if have != heads {
                return Err(Error::NotUpToDate { current: rows, heads });
            }
            match &mut conn {
                Some(c) => Schema::read(&*c.schema()?, &[&table, crate::core::version_sql::HISTORY_TABLE])?,
                None => Schema::default(),
            }
        }
    };
    Ok((current, declared))
}

/// `check`: succeeds when the declared schema needs no new migration.
#[cfg(feature = "autogen")]
pub fn check(map: &RevisionMap, args: &Args, host: &dyn Host, out: &mut Output) -> Result<()> {
    if !args.positional.is_empty() {
        return Err(Error::Usage("check takes no positional arguments".into()));
    }
    let (current, declared) = schemas(map, args, host)?;
    let changes = autogen::describe(&autogen::diff(&current, &declared));
    if changes.is_empty() {
        out.stdout.push_str("No new upgrade operations detected.\n");
        return Ok(());
    }
    for c in &changes {
        out.stdout.push_str(&format!("- {c}\n"));
    }
    Err(Error::SchemaDiff { changes })
}

#[cfg(test)]
mod tests {
    use crate::core::source::slug;

    #[test]
    fn slugs_follow_alembic() {
        assert_eq!(slug("Add account table"), "add_account_table");
        assert_eq!(slug("fix: user.email -> unique!"), "fix_user_email_unique");
        assert_eq!(slug(""), "");
        assert_eq!(slug("this message is much longer than forty characters in all"), "this_message_is_much_longer_than_forty_");
    }
}
