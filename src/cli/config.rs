//! `athanor.ini` at the project root: defaults for `--dir`, `--db`,
//! `--version-table` and `--schema`, in the spirit of `alembic.ini`. Flags given on the command line win.

use super::args::Global;
use super::host::Host;
use crate::core::error::{Error, Result};

pub const CONFIG_FILE: &str = "athanor.ini";

pub const CONFIG_TEMPLATE: &str = "# athanor settings; command-line flags override them.\n[athanor]\n# where the migration files live\ndir = migrations\n# the SQLite database file (set it, or pass --db)\n# db = app.db\n# Alembic's version table name\nversion_table = alembic_version\n";

const KNOWN: &str = "known: dir, db, version_table, schema, transaction_per_migration";

/// Fills what the command line left unset from `athanor.ini`, if there is one.
///
/// The format is configparser's (as `alembic.ini`), read strictly: anything athanor
/// would not read the way its author meant is a `PARSE_ERROR` naming the line, never
/// skipped. So: one section, exactly `[athanor]` (configparser's `[ athanor ]` is
/// another section, which would silently set nothing); no settings outside it; no
/// inline comments (configparser keeps `m # c` as the value, a directory nobody
/// meant); no empty values (`db =` would open a temporary database and report
/// success); no setting twice. A UTF-8 byte order mark at the start (Windows editors
/// write one) is skipped; a file that is not UTF-8 is refused by the host.
pub fn apply(host: &dyn Host, global: &mut Global) -> Result<()> {
    let Some(text) = host.read_text(CONFIG_FILE)? else { return Ok(()) };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let err = |line: usize, message: String| Error::parse(CONFIG_FILE, line, message);
    let mut section_line = None;
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            if line != "[athanor]" {
                return Err(err(n, format!("unknown section '{line}': athanor.ini has one section, written exactly [athanor]")));
            }
            if let Some(first) = section_line {
                return Err(err(n, format!("section [athanor] appears twice (first on line {first})")));
            }
            section_line = Some(n);
            continue;
        }
        if section_line.is_none() {
            return Err(err(n, format!("'{line}' is outside any section: settings go under [athanor]")));
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(err(n, format!("expected 'key = value', found '{line}'")));
        };
        let (key, value) = (key.trim(), value.trim());
        if !matches!(key, "dir" | "db" | "version_table" | "schema" | "transaction_per_migration") {
            return Err(err(n, format!("unknown setting '{key}' ({KNOWN})")));
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| k == key) {
            return Err(err(n, format!("'{key}' is set twice (first on line {first})")));
        }
        seen.push((key.to_string(), n));
        if value.is_empty() {
            return Err(err(n, format!("'{key}' is empty: give it a value, or remove the line")));
        }
        if value.starts_with(['#', ';']) || value.contains(" #") || value.contains(" ;") || value.contains("\t#") || value.contains("\t;") {
            return Err(err(n, format!("'{key} = {value}': a comment must be on a line of its own (inline comments are not read)")));
        }
        let value = value.to_string();
        match key {
            "dir" => {
                global.dir.get_or_insert(value);
            }
            "db" => {
                global.db.get_or_insert(value);
            }
            "version_table" => {
                global.version_table.get_or_insert(value);
            }
            "schema" => {
                global.schema.get_or_insert(value);
            }
            _ => {
                global.per_migration |= match value.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" | "on" => true,
                    "false" | "no" | "0" | "off" => false,
                    _ => return Err(err(n, format!("transaction_per_migration = {value}: expected true or false"))),
                };
            }
        }
    }
    Ok(())
}
