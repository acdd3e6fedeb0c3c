//! What the commands need from the outside world: the migration files and the
//! database. The native host uses the file system; the wasm package brings its own.

use rusqlite::{Connection, OpenFlags};

use crate::core::error::{Error, Result};

pub struct MigrationFile {
    pub file_name: String,
    pub path: String,
    pub bytes: Vec<u8>,
}

pub trait Host {
    /// The `.sql` files directly inside `dir`.
    fn read_migrations(&self, dir: &str) -> Result<Vec<MigrationFile>>;
    /// Opens the database; `None` when it does not exist and `create` is false.
    fn open_db(&self, path: &str, create: bool) -> Result<Option<Connection>>;
}

pub struct NativeHost;

impl Host for NativeHost {
    fn read_migrations(&self, dir: &str) -> Result<Vec<MigrationFile>> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::Io(format!("cannot read migrations directory '{dir}': {e}")))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::Io(format!("{dir}: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".sql") || !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                continue;
            }
            // Alembic shows each script's resolved absolute path.
            let joined = std::path::Path::new(dir).join(&name);
            let path = std::fs::canonicalize(&joined).unwrap_or(joined).to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).map_err(|e| Error::Io(format!("cannot read '{path}': {e}")))?;
            files.push(MigrationFile { file_name: name, path, bytes });
        }
        Ok(files)
    }

    fn open_db(&self, path: &str, create: bool) -> Result<Option<Connection>> {
        if !create && path != ":memory:" && !std::path::Path::new(path).exists() {
            return Ok(None);
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::Io(format!("cannot open database '{path}': {e}")))?;
        // Another migrator holding the write lock makes us wait this long, then LOCKED.
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(crate::sqlite::sql_error)?;
        // The bundled SQLite turns foreign keys on by default; the sqlite3 shell, Python
        // and Alembic run migrations with SQLite's own default, off.
        conn.execute_batch("PRAGMA foreign_keys = OFF").map_err(crate::sqlite::sql_error)?;
        Ok(Some(conn))
    }
}
