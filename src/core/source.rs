//! Migration sets given as data rather than a directory: file texts with their names
//! (a bundler's `import.meta.glob`), or revision objects. Hosts without a file system
//! (browsers, workers) hand these in.

use super::error::{Error, Result};
use super::script::{self, Script, Section};

/// A revision given as fields rather than file text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionFields {
    pub revision: String,
    pub revises: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub message: String,
    pub create_date: Option<String>,
    pub upgrade: String,
    pub downgrade: Option<String>,
}

/// The last path segment: what Alembic sorts by.
pub fn file_name_of(path: &str) -> &str {
    // A byte scan: `rsplit` with a set of chars runs its generic matcher per character
    // (3% of parsing 1,000 files).
    match path.bytes().rposition(|b| b == b'/' || b == b'\\') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Parses a file's text, given under `path` (a name or a path).
pub fn from_text(path: &str, text: &str) -> Result<Script> {
    script::parse(file_name_of(path), path, text)
}

/// Alembic's file-name slug: the message's words joined by `_`, lower-cased, cut at
/// 40 characters on a word boundary. Only the CLI writes files: it lower-cases as
/// Python does (Unicode); elsewhere the slug only names a revision given as an object,
/// and ASCII lower-casing keeps Unicode's case tables (10 KB) out of the adapter wasm.
pub fn slug(message: &str) -> String {
    let lower = |w: &str| if cfg!(feature = "commands") { w.to_lowercase() } else { w.to_ascii_lowercase() };
    let words: Vec<String> = message.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(lower).collect();
    let slug = words.join("_");
    if slug.chars().count() > 40 {
        let cut: String = slug.chars().take(40).collect();
        let head = cut.rsplit_once('_').map(|(h, _)| h).unwrap_or("");
        format!("{head}_")
    } else {
        slug
    }
}

/// Builds a script from fields, checked like a parsed file. Its file name is
/// `<revision>_<slug>.sql`, as `revision -m` would write it.
pub fn from_fields(f: RevisionFields) -> Result<Script> {
    let name = format!("{}_{}.sql", f.revision, slug(&f.message));
    let check = |kind: &str, v: &str| script::check_identifier(kind, v).map_err(|m| Error::parse(&name, 1, m));
    check("revision identifier", &f.revision)?;
    for p in &f.revises {
        check("revision identifier", p)?;
    }
    for l in &f.branch_labels {
        check("branch label", l)?;
    }
    for d in &f.depends_on {
        check("dependency", d)?;
    }
    if f.revises.contains(&f.revision) {
        return Err(Error::Cycle { kind: "Self-loop", revisions: vec![f.revision] });
    }
    let upgrade = Section::new(f.upgrade);
    let downgrade = f.downgrade.map(Section::new);
    script::check_section(&name, &upgrade)?;
    if let Some(down) = &downgrade {
        script::check_section(&name, down)?;
    }
    Ok(Script {
        id: f.revision,
        parents: f.revises,
        branch_labels: f.branch_labels,
        depends_on: f.depends_on,
        create_date: f.create_date,
        message: f.message,
        upgrade,
        downgrade,
        file_name: name.clone(),
        path: name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_keys_sort_by_file_name() {
        let s = from_text("./migrations/ab12_x.sql", "-- Revision ID: ab12\n-- Revises:\n-- migrate:upgrade\n").unwrap();
        assert_eq!(s.file_name, "ab12_x.sql");
        assert_eq!(s.path, "./migrations/ab12_x.sql");
    }

    #[test]
    fn fields_become_a_script_named_like_a_file() {
        let s = from_fields(RevisionFields {
            revision: "ae10".into(),
            message: "Add account table!".into(),
            upgrade: "CREATE TABLE a (x);".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.file_name, "ae10_add_account_table.sql");
        assert!(s.downgrade.is_none());
        let bad = from_fields(RevisionFields { revision: "a-b".into(), ..Default::default() }).unwrap_err();
        assert_eq!(bad.code(), "PARSE_ERROR");
    }
}
