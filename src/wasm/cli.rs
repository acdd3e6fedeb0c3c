//! `runCli(argv, host)`: the CLI layer for the npm package's `athanor` bin. The JS
//! host brings file access (Node's `fs`, synchronously); the database file is opened
//! through the Node file VFS.

use super::js::{get, set};
use js_sys::{Object, Uint8Array};
use rusqlite::{Connection, OpenFlags};
use wasm_bindgen::prelude::*;

use crate::cli::{self, Host, MigrationFile};
use crate::core::error::{Error, Result};

use super::node_vfs::VFS_NAME as NODE_VFS;

#[wasm_bindgen]
extern "C" {
    /// The host object `cli.mjs` builds from `node:fs` and `node:crypto`.
    pub type CliHost;

    #[wasm_bindgen(method, catch, js_name = readMigrations)]
    fn read_migrations(this: &CliHost, dir: &str) -> std::result::Result<js_sys::Array, JsValue>;
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

fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

fn io(e: JsValue) -> Error {
    Error::Io(js_message(&e))
}

impl Host for CliHost {
    fn read_migrations(&self, dir: &str) -> Result<Vec<MigrationFile>> {
        let list = CliHost::read_migrations(self, dir).map_err(io)?;
        Ok(list
            .iter()
            .map(|f| MigrationFile {
                file_name: get(&f, "fileName").as_string().unwrap_or_default(),
                path: get(&f, "path").as_string().unwrap_or_default(),
                bytes: Uint8Array::new(&get(&f, "bytes")).to_vec(),
            })
            .collect())
    }

    fn open_db(&self, path: &str, create: bool) -> Result<Option<Connection>> {
        if path != ":memory:" && !create && !Host::exists(self, path) {
            return Ok(None);
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = super::node_vfs::open(path, flags, (path != ":memory:").then_some(NODE_VFS), None)?;
        Ok(Some(conn))
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

/// Runs one command line; returns `{ stdout, stderr, status }`.
#[wasm_bindgen(js_name = runCli)]
pub fn run_cli(argv: Vec<String>, host: CliHost) -> Object {
    super::node_vfs::clear_last_error();
    let mut out = cli::run(&argv, &host);
    // A failure on the file: SQLite's words plus the VFS's (which file, and why).
    if let Some(failed) = out.stderr.strip_suffix('\n').and_then(|s| s.rsplit('\n').next()).filter(|l| l.starts_with("FAILED [")) {
        if let Some(why) = super::node_vfs::reason_for(failed) {
            out.stderr.insert_str(out.stderr.len() - 1, &format!(" ({why})"));
        }
    }
    let o = Object::new();
    set(&o, "stdout", out.stdout);
    set(&o, "stderr", out.stderr);
    set(&o, "status", out.status);
    o
}
