//! `runCli(argv, host)`: the CLI layer for the npm package's `athanor` bin. The JS
//! host brings file access (Node's `fs`, synchronously) and the database: a
//! `node:sqlite` connection, so SQLite's own locks are shared with every other process
//! on the file (the sqlite3 shell, Python, the app), and WAL works.

use super::js::{get, message};
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::host_run::JsConnection;
#[cfg(feature = "autogen")]
use crate::cli::SchemaView;
use crate::cli::{self, Database, Host, MigrationFile};
use crate::core::connection::{Connection, Param};
use crate::core::error::{Error, Result};
use crate::core::run::{SqlFailure, Stopped};

#[wasm_bindgen]
extern "C" {
    /// The host object `cli.mjs` builds from `node:fs` and `node:crypto`.
    pub type CliHost;

    /// A connection's primitives (`values`, `run`, `exec`, `inTransaction`) plus
    /// `hasMoved()` and `close()`; `null` when the file does not exist and `create` is
    /// false. Throws `{ code: "NODE_SQLITE_UNAVAILABLE" }` in a Node without node:sqlite.
    #[wasm_bindgen(method, catch, js_name = openDb)]
    fn open_db(this: &CliHost, path: &str, create: bool) -> std::result::Result<JsValue, JsValue>;
    /// `{ names, paths, bytes, ends }`: the files' names and paths NUL-joined, their
    /// bytes one after another and where each ends: four values cross the boundary,
    /// not three per file (1,000 migrations: 4,000 crossings fewer).
    #[wasm_bindgen(method, catch, js_name = readMigrations)]
    fn read_migrations(this: &CliHost, dir: &str) -> std::result::Result<JsValue, JsValue>;
    /// The file's bytes, `null` when nothing is there; throws for what is not a regular file.
    #[wasm_bindgen(method, catch, js_name = readBytes)]
    fn read_bytes(this: &CliHost, path: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeFile)]
    fn remove_file(this: &CliHost, path: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = createFile)]
    fn create_file(this: &CliHost, path: &str, text: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = writeFile)]
    fn write_file(this: &CliHost, path: &str, text: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = createDir)]
    fn create_dir(this: &CliHost, path: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method)]
    fn exists(this: &CliHost, path: &str) -> bool;
    #[wasm_bindgen(method, catch, js_name = dirIsEmpty)]
    fn dir_is_empty(this: &CliHost, path: &str) -> std::result::Result<bool, JsValue>;
    /// Milliseconds since the Unix epoch (`Date.now()`): formatted here, in UTC, as the
    /// native CLI does, so a Create Date never depends on which CLI wrote it.
    #[wasm_bindgen(method)]
    fn now(this: &CliHost) -> f64;
    #[wasm_bindgen(method, js_name = randomHex)]
    fn random_hex(this: &CliHost, n: usize) -> String;
}

fn io(e: JsValue) -> Error {
    Error::Io(message(&e))
}

#[wasm_bindgen]
extern "C" {
    /// What `openDb` returns: [`JsConnection`]'s primitives and these.
    type JsDbHandle;
    /// Whether the file at the path is no longer the one opened (removed or replaced).
    #[wasm_bindgen(method, js_name = hasMoved)]
    fn has_moved(this: &JsDbHandle) -> bool;
    #[wasm_bindgen(method)]
    fn close(this: &JsDbHandle);
}

/// The npm CLI's database: a node:sqlite connection held by the JS host, closed on drop.
struct JsDb {
    conn: JsConnection,
    handle: JsDbHandle,
}

impl Connection for JsDb {
    fn values(&mut self, sql: &str, params: &[Param]) -> std::result::Result<Vec<Option<String>>, SqlFailure> {
        Connection::values(&mut self.conn, sql, params)
    }
    fn run(&mut self, sql: &str, params: &[Param]) -> std::result::Result<usize, SqlFailure> {
        Connection::run(&mut self.conn, sql, params)
    }
    fn exec(&mut self, sql: &str) -> std::result::Result<(), SqlFailure> {
        Connection::exec(&mut self.conn, sql)
    }
    fn in_transaction(&mut self) -> Option<bool> {
        Connection::in_transaction(&mut self.conn)
    }
    fn exec_each(&mut self, statements: &[&str], keep_open: bool) -> std::result::Result<(), Stopped> {
        Connection::exec_each(&mut self.conn, statements, keep_open)
    }
    fn now_ms(&self) -> f64 {
        self.conn.now_ms()
    }
}

impl Database for JsDb {
    fn claim_if_empty(&mut self) -> bool {
        crate::core::connection::claim_if_empty(self, |db| db.handle.has_moved())
    }
    #[cfg(feature = "autogen")]
    fn schema(&mut self) -> Result<SchemaView<'_>> {
        crate::autogen::schema_copy(self).map(SchemaView::Copy)
    }
}

impl Drop for JsDb {
    fn drop(&mut self) {
        self.handle.close();
    }
}

impl Host for CliHost {
    fn read_migrations(&self, dir: &str) -> Result<Vec<MigrationFile>> {
        let read = CliHost::read_migrations(self, dir).map_err(io)?;
        let text = |key: &str| String::from_utf8(Uint8Array::new(&get(&read, key)).to_vec()).unwrap_or_default();
        let (names, paths) = (text("names"), text("paths"));
        let bytes = Uint8Array::new(&get(&read, "bytes")).to_vec();
        let ends = js_sys::Uint32Array::new(&get(&read, "ends")).to_vec();
        let mut start = 0;
        Ok(names
            .split('\0')
            .zip(paths.split('\0'))
            .zip(ends)
            .map(|((name, path), end)| {
                let (from, to) = (start, end as usize);
                start = to;
                MigrationFile {
                    file_name: name.to_string(),
                    path: path.to_string(),
                    bytes: bytes.get(from..to).map(<[u8]>::to_vec).unwrap_or_default(),
                }
            })
            .collect())
    }

    fn open_db(&self, path: &str, create: bool) -> Result<Option<Box<dyn Database>>> {
        if path != ":memory:" && !create && !Host::exists(self, path) {
            return Ok(None);
        }
        let handle = CliHost::open_db(self, path, create).map_err(|e| match get(&e, "code").as_string().as_deref() {
            Some("NODE_SQLITE_UNAVAILABLE") => Error::NodeSqliteUnavailable(message(&e)),
            _ => Error::Io(format!("cannot open database '{path}': {}", message(&e))),
        })?;
        if handle.is_null() || handle.is_undefined() {
            return Ok(None);
        }
        Ok(Some(Box::new(JsDb { conn: handle.clone().unchecked_into(), handle: handle.unchecked_into() })))
    }

    fn read_text(&self, path: &str) -> Result<Option<String>> {
        let bytes = CliHost::read_bytes(self, path).map_err(io)?;
        if bytes.is_null() || bytes.is_undefined() {
            return Ok(None);
        }
        cli::host::decode_text(path, Uint8Array::new(&bytes).to_vec()).map(Some)
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        CliHost::remove_file(self, path).map_err(io)
    }

    fn create_file(&self, path: &str, text: &str) -> Result<()> {
        CliHost::create_file(self, path, text).map_err(io)
    }

    fn write_file(&self, path: &str, text: &str) -> Result<()> {
        CliHost::write_file(self, path, text).map_err(io)
    }

    fn create_dir(&self, path: &str) -> Result<()> {
        CliHost::create_dir(self, path).map_err(io)
    }

    fn exists(&self, path: &str) -> bool {
        CliHost::exists(self, path)
    }

    fn dir_is_empty(&self, path: &str) -> Result<bool> {
        CliHost::dir_is_empty(self, path).map_err(io)
    }

    fn now(&self) -> String {
        cli::host::format_timestamp(CliHost::now(self) as i64 * 1000)
    }

    fn random_hex(&self, n: usize) -> String {
        CliHost::random_hex(self, n)
    }
}

/// Runs one command line, each argument ended by a NUL (an argument from a process's
/// argv holds none): one string crossing, where an array of strings crosses string by
/// string (2 ms on a CLI run's first call). Returns the exit status (a byte), stdout's
/// length in bytes (4, little-endian), stdout and stderr, as UTF-8 bytes the shim
/// writes as they are; nothing, in a build without autogenerate, for a command that
/// needs it (cli.mjs runs it again with the full wasm).
#[wasm_bindgen(js_name = runCli)]
pub fn run_cli(argv: &str, host: CliHost) -> Vec<u8> {
    let argv: Vec<String> = argv.split_terminator('\0').map(String::from).collect();
    if !cfg!(feature = "autogen") && cli::needs_autogen(&argv) {
        return Vec::new();
    }
    let out = cli::run(&argv, &host);
    let mut bytes = Vec::with_capacity(5 + out.stdout.len() + out.stderr.len());
    bytes.push(out.status as u8);
    bytes.extend_from_slice(&(out.stdout.len() as u32).to_le_bytes());
    bytes.extend_from_slice(out.stdout.as_bytes());
    bytes.extend_from_slice(out.stderr.as_bytes());
    bytes
}
