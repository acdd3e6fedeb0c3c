//! What several integration tests share: the corpus location, the CLI binary, and the
//! revisions autogenerate's tests build around generated SQL. Each test crate uses a
//! part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use athanor::autogen::{self, Generated, Rendered, Schema};
use athanor::core::graph::RevisionMap;
use athanor::core::script::{Script, Section};
use athanor::core::source::{from_fields, RevisionFields};

/// athanor's own tables, left out of every schema comparison.
pub const OWN: &[&str] = &["alembic_version", "athanor_history"];

/// `tests/fixtures/corpus` (the real histories, copied in with their sources), or `ATHANOR_CORPUS`.
pub fn corpus() -> PathBuf {
    PathBuf::from(std::env::var("ATHANOR_CORPUS").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/corpus").into()))
}

/// Runs the `athanor` binary in `cwd`: exit status, stdout, stderr.
pub fn athanor_bin(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_athanor")).current_dir(cwd).args(args).output().expect("run athanor");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A declared schema from its CREATE statements.
pub fn schema(sql: &str) -> Schema {
    autogen::schema_of_sql("schema.sql", sql).unwrap()
}

/// A revision with the given sections (which may opt out of the transaction).
pub fn script(id: &str, parent: Option<&str>, up: Section, down: Section) -> Script {
    let mut s = from_fields(RevisionFields {
        revision: id.into(),
        revises: parent.map(|p| vec![p.to_string()]).unwrap_or_default(),
        message: id.into(),
        downgrade: Some(String::new()),
        ..Default::default()
    })
    .unwrap();
    s.upgrade = up;
    s.downgrade = Some(down);
    s
}

/// A generated section as a script section.
pub fn section(r: &Rendered) -> Section {
    Section { sql: r.sql.clone(), first_line: 1, transactional: r.transactional }
}

/// Two revisions: r1 creates `old`, r2 is what autogenerate wrote from it (`g`).
pub fn old_then_generated(old: &str, g: &Generated) -> RevisionMap {
    RevisionMap::new(vec![
        script("r1", None, Section::new(old), Section::new("")),
        script("r2", Some("r1"), section(&g.upgrade), section(&g.downgrade)),
    ])
    .unwrap()
}
