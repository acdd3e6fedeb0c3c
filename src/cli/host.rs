//! What the commands need from the outside world: the migration files and the
//! database. The native host uses the file system; the wasm package brings its own.

use crate::core::connection::Connection;
#[cfg(feature = "sqlite")]
use crate::core::connection::Param;
use crate::core::error::{Error, Result};
#[cfg(feature = "sqlite")]
use crate::core::run::SqlFailure;
#[cfg(feature = "sqlite")]
use crate::sqlite::connection::Rusqlite;
#[cfg(feature = "sqlite")]
use rusqlite::OpenFlags;

pub struct MigrationFile {
    pub file_name: String,
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A database the commands work on: the connection primitives runs use (native:
/// rusqlite; npm: `node:sqlite` in the JS host, so SQLite's own locks are shared with
/// every other process on the file), and what some commands need beyond them.
pub trait Database: Connection {
    /// [`crate::core::connection::claim_if_empty`]: whether a file a failed run created
    /// can be removed (then locked until the connection closes).
    fn claim_if_empty(&mut self) -> bool;
    /// The schema as a rusqlite connection that autogenerate and adopt read (native:
    /// the database's own; npm: a copy replayed into an in-memory SQLite).
    #[cfg(feature = "autogen")]
    fn schema(&mut self) -> Result<SchemaView<'_>>;
}

/// [`Database::schema`]: the live connection, or a copy of its schema.
#[cfg(feature = "autogen")]
pub enum SchemaView<'a> {
    Live(&'a rusqlite::Connection),
    Copy(rusqlite::Connection),
}

#[cfg(feature = "autogen")]
impl std::ops::Deref for SchemaView<'_> {
    type Target = rusqlite::Connection;
    fn deref(&self) -> &rusqlite::Connection {
        match self {
            SchemaView::Live(c) => c,
            SchemaView::Copy(c) => c,
        }
    }
}

/// The native CLI's database: a rusqlite connection.
#[cfg(feature = "sqlite")]
pub struct NativeDb(pub rusqlite::Connection);

#[cfg(feature = "sqlite")]
impl Connection for NativeDb {
    fn values(&mut self, sql: &str, params: &[Param]) -> std::result::Result<Vec<Option<String>>, SqlFailure> {
        Rusqlite(&self.0).values(sql, params)
    }
    fn run(&mut self, sql: &str, params: &[Param]) -> std::result::Result<usize, SqlFailure> {
        Rusqlite(&self.0).run(sql, params)
    }
    fn exec(&mut self, sql: &str) -> std::result::Result<(), SqlFailure> {
        Rusqlite(&self.0).exec(sql)
    }
    fn in_transaction(&mut self) -> Option<bool> {
        Some(!self.0.is_autocommit())
    }
    fn now_ms(&self) -> f64 {
        Rusqlite(&self.0).now_ms()
    }
}

#[cfg(feature = "sqlite")]
impl Database for NativeDb {
    fn claim_if_empty(&mut self) -> bool {
        crate::sqlite::claim_if_empty(&self.0)
    }
    #[cfg(feature = "autogen")]
    fn schema(&mut self) -> Result<SchemaView<'_>> {
        Ok(SchemaView::Live(&self.0))
    }
}

pub trait Host {
    /// The `.sql` files directly inside `dir`.
    fn read_migrations(&self, dir: &str) -> Result<Vec<MigrationFile>>;
    /// Opens the database, waiting up to 5 s for other connections' locks (the
    /// commands set `--busy-timeout` through SQL) and with foreign keys off (SQLite's
    /// own default, which the sqlite3 shell, Python and Alembic migrate with); `None`
    /// when it does not exist and `create` is false.
    fn open_db(&self, path: &str, create: bool) -> Result<Option<Box<dyn Database>>>;
    /// A text file's contents; `None` when there is no such file. Only a regular file
    /// (or a symlink to one) is read: a FIFO would block forever. Not UTF-8 is an error.
    fn read_text(&self, path: &str) -> Result<Option<String>>;
    /// Removes a file; fine if it is already gone.
    fn remove_file(&self, path: &str) -> Result<()>;
    /// Writes a new file; fails rather than overwrite one that exists.
    fn create_file(&self, path: &str, text: &str) -> Result<()>;
    /// Writes a file, replacing one that exists (generated output only).
    fn write_file(&self, path: &str, text: &str) -> Result<()>;
    /// Creates a directory (and its parents); fine if it exists.
    fn create_dir(&self, path: &str) -> Result<()>;
    /// Does anything (file or directory) exist at `path`?
    fn exists(&self, path: &str) -> bool;
    /// Whether a directory holds no entries at all.
    fn dir_is_empty(&self, path: &str) -> Result<bool>;
    /// The time for a Create Date header: `YYYY-MM-DD HH:MM:SS.ffffff`.
    fn now(&self) -> String;
    /// `n` random lowercase hex digits for a new revision id.
    fn random_hex(&self, n: usize) -> String;
}

/// The error for a path that is not a regular file; `kind` says what it is ("a FIFO",
/// "a symlink to nothing"). The npm host words it the same (pkg-template/node-host.js).
pub fn not_regular(path: &str, kind: &str) -> Error {
    Error::Io(format!("cannot read '{path}': it is {kind}, not a regular file"))
}

/// A file's bytes as text: UTF-8 strictly (a lossy read would change what the file
/// says), a failure naming the line.
pub fn decode_text(path: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::parse(path, line, format!("not UTF-8 text (byte 0x{:02x}); save the file as UTF-8", e.as_bytes()[at]))
    })
}

/// What a path is, following symlinks: `Ok(None)` when nothing is there at all, an
/// error when it is there but not a regular file (or a symlink to one).
#[cfg(feature = "sqlite")]
fn regular_file(path: &std::path::Path) -> Result<Option<()>> {
    use std::io::ErrorKind::NotFound;
    let shown = path.to_string_lossy();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == NotFound => {
            return match std::fs::symlink_metadata(path) {
                Ok(_) => Err(not_regular(&shown, "a symlink to nothing")),
                Err(_) => Ok(None),
            };
        }
        Err(e) => return Err(Error::Io(format!("cannot read '{shown}': {e}"))),
    };
    if meta.is_file() {
        return Ok(Some(()));
    }
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = if t.is_fifo() {
            "a FIFO"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else if t.is_dir() {
            "a directory"
        } else {
            "a special file"
        };
        return Err(not_regular(&shown, kind));
    }
    #[allow(unreachable_code)]
    Err(not_regular(&shown, if t.is_dir() { "a directory" } else { "a special file" }))
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) from microseconds since the Unix epoch.
pub fn format_timestamp(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil conversion.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{frac:06}", sod / 3600, sod % 3600 / 60, sod % 60)
}

#[cfg(feature = "sqlite")]
pub struct NativeHost;

#[cfg(feature = "sqlite")]
impl Host for NativeHost {
    fn read_migrations(&self, dir: &str) -> Result<Vec<MigrationFile>> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::Io(format!("cannot read migrations directory '{dir}': {e}")))?;
        let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.into());
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::Io(format!("{dir}: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".sql") {
                continue;
            }
            // A symlink to a migration is that migration; a `.sql` that cannot be read as
            // one (a dangling link, a FIFO) is an error, never silently left out.
            let joined = real.join(&name);
            if regular_file(&joined)?.is_none() {
                return Err(not_regular(&joined.to_string_lossy(), "gone (removed while being read)"));
            }
            // Alembic shows each script's resolved absolute path.
            let path = std::fs::canonicalize(&joined).unwrap_or(joined).to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).map_err(|e| Error::Io(format!("cannot read '{path}': {e}")))?;
            files.push(MigrationFile { file_name: name, path, bytes });
        }
        Ok(files)
    }

    fn open_db(&self, path: &str, create: bool) -> Result<Option<Box<dyn Database>>> {
        if !create && path != ":memory:" && !std::path::Path::new(path).exists() {
            return Ok(None);
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(|e| Error::Io(format!("cannot open database '{path}': {e}")))?;
        crate::sqlite::prepare_connection(&conn, None)?;
        Ok(Some(Box::new(NativeDb(conn))))
    }

    fn read_text(&self, path: &str) -> Result<Option<String>> {
        if regular_file(std::path::Path::new(path))?.is_none() {
            return Ok(None);
        }
        match std::fs::read(path) {
            Ok(bytes) => decode_text(path, bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Io(format!("cannot read '{path}': {e}"))),
        }
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io(format!("cannot remove '{path}': {e}"))),
            _ => Ok(()),
        }
    }

    fn create_file(&self, path: &str, text: &str) -> Result<()> {
        use std::io::Write;
        let mut f =
            std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| Error::Io(format!("cannot create '{path}': {e}")))?;
        f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| Error::Io(format!("cannot write '{path}': {e}")))
    }

    fn write_file(&self, path: &str, text: &str) -> Result<()> {
        std::fs::write(path, text).map_err(|e| Error::Io(format!("cannot write '{path}': {e}")))
    }

    fn create_dir(&self, path: &str) -> Result<()> {
        std::fs::create_dir_all(path).map_err(|e| Error::Io(format!("cannot create directory '{path}': {e}")))
    }

    fn exists(&self, path: &str) -> bool {
        std::path::Path::new(path).exists()
    }

    fn dir_is_empty(&self, path: &str) -> Result<bool> {
        let mut entries = std::fs::read_dir(path).map_err(|e| Error::Io(format!("cannot read directory '{path}': {e}")))?;
        Ok(entries.next().is_none())
    }

    fn now(&self) -> String {
        let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0);
        format_timestamp(micros)
    }

    fn random_hex(&self, n: usize) -> String {
        use sha2::{Digest, Sha256};
        use std::sync::atomic::{AtomicU64, Ordering};
        // No OS randomness crate: the clock, the pid and a counter, hashed, are
        // unique enough for revision ids (which are checked for clashes anyway).
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut h = Sha256::new();
        h.update(nanos.to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        crate::core::script::to_hex(&h.finalize()).chars().take(n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::format_timestamp;

    #[test]
    fn timestamps_format_like_python_datetime() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00.000000");
        assert_eq!(format_timestamp(1_795_773_600_123_456), "2026-11-27 10:00:00.123456");
        assert_eq!(format_timestamp(951_782_400_000_000), "2000-02-29 00:00:00.000000");
    }
}
