//! Offline mode (`--sql`): a plan as SQL text, in the shape Alembic's `--sql` prints
//! it for SQLite. Nothing is executed.

use super::graph::RevisionMap;
use super::plan::{Plan, StepKind, VersionOp};
use super::script::Section;

/// An identifier as SQL: bare when plainly lower-case, else double-quoted.
pub fn quote_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A string literal (revision ids cannot hold quotes, but never trust that here).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn create_version_table(table: &str) -> String {
    format!(
        "CREATE TABLE {t} (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT {pk} PRIMARY KEY (version_num)\n)",
        t = quote_ident(table),
        pk = quote_ident(&format!("{table}_pkc"))
    )
}

/// The SQL statement of one version-table change, with literals (offline only; the
/// online runner binds parameters).
pub fn version_op_sql(table: &str, op: &VersionOp) -> String {
    let t = quote_ident(table);
    match op {
        VersionOp::Insert(v) => format!("INSERT INTO {t} (version_num) VALUES ({})", quote_literal(v)),
        VersionOp::Delete(v) => format!("DELETE FROM {t} WHERE {t}.version_num = {}", quote_literal(v)),
        VersionOp::Update { from, to } => {
            format!("UPDATE {t} SET version_num={} WHERE {t}.version_num = {}", quote_literal(to), quote_literal(from))
        }
    }
}

/// The whole plan as a script, one statement per paragraph as Alembic prints them.
/// The version table is created before a step that starts from no rows, as Alembic
/// does. `split` cuts a section into statements (SQLite's rules live in the SQLite
/// layer, so the caller brings them).
pub fn render_plan(map: &RevisionMap, plan: &Plan, table: &str, split: &dyn Fn(&Section) -> Vec<String>) -> String {
    let mut out = String::new();
    let mut rows = plan.before.len();
    for step in &plan.steps {
        if rows == 0 {
            out.push_str(&create_version_table(table));
            out.push_str(";\n\n");
        }
        out.push_str(&format!("-- Running {}\n\n", step.short_log()));
        let section = match step.kind {
            StepKind::Upgrade(r) => Some(&map.node(r).script.upgrade),
            StepKind::Downgrade(r) => map.node(r).script.downgrade.as_ref(),
            StepKind::Stamp => None,
        };
        for statement in section.map(split).unwrap_or_default() {
            out.push_str(statement.trim());
            if !statement.trim_end().ends_with(';') {
                // A last statement may end in a comment: close it on its own line.
                out.push_str(if statement.lines().last().is_some_and(|l| l.contains("--")) { "\n;" } else { ";" });
            }
            out.push_str("\n\n");
        }
        for op in &step.ops {
            out.push_str(&version_op_sql(table, op));
            out.push_str(";\n\n");
            match op {
                VersionOp::Insert(_) => rows += 1,
                VersionOp::Delete(_) => rows -= 1,
                VersionOp::Update { .. } => {}
            }
        }
    }
    out
}
