//! `athanor.ini` at the project root: defaults for `--dir`, `--db`,
//! `--version-table` and `--schema`, in the spirit of `alembic.ini`. Flags given on the command line win.

use super::args::Global;
use super::host::Host;
use crate::core::error::{Error, Result};

pub const CONFIG_FILE: &str = "athanor.ini";

pub const CONFIG_TEMPLATE: &str = "# athanor settings; command-line flags override them.\n[athanor]\n# where the migration files live\ndir = migrations\n# the SQLite database file (set it, or pass --db)\n# db = app.db\n# Alembic's version table name\nversion_table = alembic_version\n";

/// Fills what the command line left unset from `athanor.ini`, if there is one.
pub fn apply(host: &dyn Host, global: &mut Global) -> Result<()> {
    let Some(text) = host.read_text(CONFIG_FILE)? else { return Ok(()) };
    let mut in_section = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            in_section = line == "[athanor]";
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::parse(CONFIG_FILE, i + 1, format!("expected 'key = value', found '{line}'")));
        };
        let value = value.trim().to_string();
        match key.trim() {
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
            "transaction_per_migration" => {
                global.per_migration |= matches!(value.as_str(), "true" | "yes" | "1" | "on");
            }
            other => return Err(Error::parse(CONFIG_FILE, i + 1, format!("unknown setting '{other}' (known: dir, db, version_table, schema, transaction_per_migration)"))),
        }
    }
    Ok(())
}
