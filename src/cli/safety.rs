//! `test` and `lint`: the reports of [`crate::safety`] as the CLI prints them (progress
//! as Alembic's INFO lines on stderr, results on stdout) and their exit status. Both run
//! on scratch in-memory databases; `--db` is only read, by `lint`, for its version table.

use super::args::Args;
use super::bundle::js_string;
use super::commands::open_db;
use super::host::{Host, MigrationFile};
use super::Output;
use crate::core::connection;
use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::safety::ignore::{accepted, directive};
use crate::safety::lint::{choose_revisions, lint as lint_revisions, Finding};
use crate::safety::round_trip::{Cycle, Problem, TestOptions};
use crate::safety::test_history;

fn info(out: &mut Output, text: &str) {
    out.stderr.push_str(&format!("INFO  [athanor] {text}\n"));
}

fn version_table_name(args: &Args) -> String {
    args.global.version_table.clone().unwrap_or_else(|| "alembic_version".into())
}

/// `parents -> id, message`, as the runner's `Running upgrade ...` lines name a revision.
fn label(map: &RevisionMap, r: usize) -> String {
    let node = map.node(r);
    let parents: Vec<&str> = node.parents.iter().map(|&p| map.id(p)).collect();
    let doc = node.script.doc();
    let sep = if doc.is_empty() { "" } else { ", " };
    format!("{} -> {}{sep}{doc}", parents.join(", "), node.id())
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `test [--seed]`.
pub fn test(map: &RevisionMap, args: &Args, out: &mut Output) -> Result<()> {
    if !args.positional.is_empty() {
        return Err(Error::Usage(format!("test takes no positional arguments (got '{}')", args.positional.join(" "))));
    }
    if map.nodes.is_empty() {
        out.stdout.push_str("No revisions to test.\n");
        return Ok(());
    }
    let seeded = if args.seed { ", rows seeded into every table before each step" } else { "" };
    info(out, &format!("Testing {} on a scratch in-memory database{seeded}", plural(map.nodes.len(), "revision")));
    let report = test_history(map, &TestOptions { version_table: version_table_name(args), seed: args.seed })?;
    for t in &report.tested {
        let verdict = if t.reversible { "ok" } else { "irreversible (no downgrade section), skipped" };
        info(out, &format!("Round trip {} ... {verdict}", label(map, t.revision)));
    }
    let irreversible = report.tested.iter().filter(|t| !t.reversible).count();
    let cycle = "Downgrade to base, upgrade to heads";
    match (&report.failure, &report.cycle) {
        (Some(f), _) => match &f.revision {
            Some((id, _)) => {
                let r = map.index_of(id).map(|r| label(map, r)).unwrap_or_else(|| id.clone());
                info(out, &format!("Round trip {r} ... FAILED at its {}", f.phase.name()));
            }
            None => info(out, &format!("{cycle} ... FAILED at the {}", f.phase.name())),
        },
        (None, Cycle::Skipped) => info(out, &format!("{cycle} ... skipped ({})", plural(irreversible, "irreversible revision"))),
        (None, _) => info(out, &format!("{cycle} ... ok")),
    }
    for (table, reason) in &report.unseeded {
        out.stderr.push_str(&format!("WARNING [athanor] --seed: table {table} took no rows ({reason})\n"));
    }
    if let Some(f) = &report.failure {
        if let Problem::SchemaDiffers { changes, .. } = &f.problem {
            for c in changes {
                out.stdout.push_str(&format!("- {c}\n"));
            }
        }
        return Err(f.to_error());
    }
    let tested = report.tested.len() - irreversible;
    let mut summary = format!("Round trips passed: {}", plural(tested, "revision"));
    if irreversible > 0 {
        summary.push_str(&format!(", {irreversible} irreversible skipped; downgrade to base skipped.\n"));
    } else {
        summary.push_str("; downgrade to base and upgrade to heads passed.\n");
    }
    out.stdout.push_str(&summary);
    Ok(())
}

/// `--db`'s version-table rows: `None` without `--db` or when its file does not exist.
/// Only read: nothing is written to it.
fn applied_rows(map: &RevisionMap, args: &Args, host: &dyn Host) -> Result<Option<Vec<String>>> {
    let Some(db) = &args.global.db else { return Ok(None) };
    let Some(mut db) = open_db(args, host, db, false)? else { return Ok(None) };
    let rows = connection::read_rows(&mut *db, &version_table_name(args))?;
    if let Some(r) = rows.iter().find(|r| map.index_of(r).is_none()) {
        return Err(Error::DatabaseAhead { revision: r.clone() });
    }
    Ok(Some(rows))
}

/// The revisions `lint` looks at (`choose_revisions`), reading `--db`'s rows only
/// when the default or `current` needs them.
fn chosen(map: &RevisionMap, args: &Args, host: &dyn Host) -> Result<Vec<usize>> {
    let range = match args.positional.as_slice() {
        [] => None,
        [range] => Some(range.as_str()),
        _ => return Err(Error::Usage(format!("lint takes one RANGE (got '{}')", args.positional.join(" ")))),
    };
    let needs_rows = range.is_none_or(|r| r.split(':').any(|side| side.trim() == "current"));
    let rows = if needs_rows { applied_rows(map, args, host)? } else { None };
    choose_revisions(map, range, rows.as_deref())
}

/// The `lint-ignore` comments of `revisions`, checked before anything runs: a class
/// lint does not know, or a comment in a file's header block, where it would be an
/// ordinary comment (the parser keeps only the sections), is refused rather than
/// silently not applied.
fn check_directives(map: &RevisionMap, revisions: &[usize], files: &[MigrationFile]) -> Result<()> {
    for &r in revisions {
        accepted(&map.node(r).script)?;
        let path = &map.node(r).script.path;
        let Some(file) = files.iter().find(|f| f.path == *path) else { continue };
        let text = String::from_utf8_lossy(&file.bytes);
        for (i, line) in text.lines().enumerate().take_while(|(_, l)| !l.trim_start().starts_with("-- migrate:")) {
            if directive(line).is_some() {
                return Err(Error::Parse {
                    file: path.clone(),
                    line: i + 1,
                    message: "'-- athanor:lint-ignore' in the header has no effect: put it in the upgrade or downgrade section".into(),
                });
            }
        }
    }
    Ok(())
}

/// `lint [RANGE] [--format text|json]`.
pub fn lint(map: &RevisionMap, args: &Args, host: &dyn Host, files: &[MigrationFile], out: &mut Output) -> Result<()> {
    let json = match args.format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => return Err(Error::Usage(format!("unknown --format '{other}' (text or json)"))),
    };
    let revisions = chosen(map, args, host)?;
    check_directives(map, &revisions, files)?;
    for &r in &revisions {
        info(out, &format!("Linting {}", label(map, r)));
    }
    let report = lint_revisions(map, &revisions)?;
    for f in &report.ignored {
        info(out, &format!("Accepted by lint-ignore: {}", finding_text(f)));
    }
    if json {
        let list = |fs: &[Finding]| fs.iter().map(finding_json).collect::<Vec<_>>().join(",");
        let ids: Vec<String> = report.revisions.iter().map(|r| js_string(r)).collect();
        out.stdout.push_str(&format!(
            "{{\"revisions\":[{}],\"findings\":[{}],\"ignored\":[{}]}}\n",
            ids.join(","),
            list(&report.findings),
            list(&report.ignored)
        ));
    } else if revisions.is_empty() {
        out.stdout.push_str("No revisions to lint.\n");
    } else if report.findings.is_empty() {
        out.stdout.push_str(&format!("No lint findings in {}.\n", plural(revisions.len(), "revision")));
    } else {
        for f in &report.findings {
            out.stdout.push_str(&finding_text(f));
            out.stdout.push('\n');
        }
    }
    if report.findings.is_empty() {
        return Ok(());
    }
    let revisions = report.findings.iter().enumerate().filter(|(i, f)| *i == 0 || report.findings[i - 1].revision != f.revision).count();
    Err(Error::LintFindings { count: report.findings.len(), revisions })
}

fn finding_text(f: &Finding) -> String {
    format!("{}:{}: {}: {}", f.file, f.line, f.class.name(), f.message)
}

fn finding_json(f: &Finding) -> String {
    format!(
        "{{\"class\":{},\"revision\":{},\"file\":{},\"line\":{},\"message\":{}}}",
        js_string(f.class.name()),
        js_string(&f.revision),
        js_string(&f.file),
        f.line,
        js_string(&f.message)
    )
}

#[cfg(test)]
mod tests {
    use super::js_string;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(js_string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }
}
