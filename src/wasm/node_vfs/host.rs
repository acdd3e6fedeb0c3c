//! The JS side of the Node file VFS: the object `pkg-template/node-vfs.js` builds from
//! `node:fs`, `node:path`, `node:os` and `process`. The wasm module never imports
//! Node itself (it must load in browsers too); everything arrives through this object.

use crate::wasm::js::get;
use js_sys::{Object, Reflect};
use sqlite_wasm_rs::vfs::{SystemErrorCode, VfsError, VfsErrorCode};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `{ openSync, closeSync, readSync, writeSync, fstatSync, ftruncateSync, fsyncSync,
    /// statSync, accessSync, unlinkSync, renameSync, readFileSync, writeFileSync,
    /// constants, resolve, pid, hostname, processAlive }`; see node-vfs.js.
    #[derive(Clone)]
    pub type NodeHost;

    /// What `fstatSync` / `statSync` return (a Node `fs.Stats`).
    pub type Stats;

    #[wasm_bindgen(method, catch, js_name = openSync)]
    pub fn open_sync(this: &NodeHost, path: &str, flags: f64, mode: f64) -> Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, js_name = closeSync)]
    pub fn close_sync(this: &NodeHost, fd: f64) -> Result<(), JsValue>;
    // Slices cross as views of wasm memory: reads land in SQLite's buffer, no copy.
    #[wasm_bindgen(method, catch, js_name = readSync)]
    pub fn read_sync(this: &NodeHost, fd: f64, buf: &mut [u8], offset: f64, length: f64, position: f64) -> Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, js_name = writeSync)]
    pub fn write_sync(this: &NodeHost, fd: f64, buf: &[u8], offset: f64, length: f64, position: f64) -> Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, js_name = fstatSync)]
    pub fn fstat_sync(this: &NodeHost, fd: f64) -> Result<Stats, JsValue>;
    #[wasm_bindgen(method, catch, js_name = ftruncateSync)]
    pub fn ftruncate_sync(this: &NodeHost, fd: f64, len: f64) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = fsyncSync)]
    pub fn fsync_sync(this: &NodeHost, fd: f64) -> Result<(), JsValue>;
    /// Called with `{ throwIfNoEntry: false }`: a missing file is `undefined`.
    #[wasm_bindgen(method, catch, js_name = statSync)]
    pub fn stat_sync(this: &NodeHost, path: &str, options: &JsValue) -> Result<Option<Stats>, JsValue>;
    #[wasm_bindgen(method, catch, js_name = accessSync)]
    pub fn access_sync(this: &NodeHost, path: &str, mode: f64) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = unlinkSync)]
    pub fn unlink_sync(this: &NodeHost, path: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = renameSync)]
    pub fn rename_sync(this: &NodeHost, from: &str, to: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = readFileSync)]
    pub fn read_file_sync(this: &NodeHost, path: &str, encoding: &str) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_name = writeFileSync)]
    pub fn write_file_sync(this: &NodeHost, path: &str, data: &str, options: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn resolve(this: &NodeHost, path: &str) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_name = processAlive)]
    pub fn process_alive(this: &NodeHost, pid: f64) -> Result<bool, JsValue>;

    #[wasm_bindgen(method, getter)]
    pub fn size(this: &Stats) -> f64;
    #[wasm_bindgen(method, getter)]
    pub fn ino(this: &Stats) -> f64;
    #[wasm_bindgen(method, getter)]
    pub fn dev(this: &Stats) -> f64;
    #[wasm_bindgen(method, getter, js_name = mtimeMs)]
    pub fn mtime_ms(this: &Stats) -> f64;
    #[wasm_bindgen(method, catch, js_name = isFile)]
    pub fn is_file(this: &Stats) -> Result<bool, JsValue>;
}

const FUNCTIONS: &[&str] = &[
    "openSync",
    "closeSync",
    "readSync",
    "writeSync",
    "fstatSync",
    "ftruncateSync",
    "fsyncSync",
    "statSync",
    "accessSync",
    "unlinkSync",
    "renameSync",
    "readFileSync",
    "writeFileSync",
    "resolve",
    "processAlive",
];
const CONSTANTS: &[&str] = &["O_RDONLY", "O_RDWR", "O_CREAT", "O_EXCL", "R_OK", "W_OK"];

/// The platform's `fs.constants` we need (their values differ between OSes).
#[derive(Clone, Copy)]
pub struct Constants {
    pub o_rdonly: f64,
    pub o_rdwr: f64,
    pub o_creat: f64,
    pub o_excl: f64,
    pub r_ok: f64,
    pub w_ok: f64,
}

/// Process identity: the lock protocol records it so a dead holder can be recognised.
pub struct Identity {
    pub pid: u32,
    pub hostname: String,
}

/// Checks the object's shape up front, so a wrong argument fails at install time with
/// the missing names rather than as an I/O error inside SQLite later.
pub fn validate(host: &JsValue) -> Result<(NodeHost, Constants, Identity), String> {
    if !host.is_object() {
        return Err("installNodeVfs needs the object that node-vfs.js's nodeVfsHost() returns".into());
    }
    let mut missing: Vec<&str> = FUNCTIONS.iter().copied().filter(|f| !get(host, f).is_function()).collect();
    let constants = get(host, "constants");
    let num = |k: &str| get(&constants, k).as_f64();
    missing.extend(CONSTANTS.iter().copied().filter(|k| num(k).is_none()));
    let pid = get(host, "pid").as_f64().filter(|p| p.fract() == 0.0 && *p > 0.0 && *p <= u32::MAX as f64);
    if pid.is_none() {
        missing.push("pid");
    }
    let hostname = get(host, "hostname").as_string();
    if hostname.is_none() {
        missing.push("hostname");
    }
    match (pid, hostname, missing.is_empty()) {
        (Some(pid), Some(hostname), true) => {
            let constants = Constants {
                o_rdonly: num("O_RDONLY").unwrap_or(0.0),
                o_rdwr: num("O_RDWR").unwrap_or(0.0),
                o_creat: num("O_CREAT").unwrap_or(0.0),
                o_excl: num("O_EXCL").unwrap_or(0.0),
                r_ok: num("R_OK").unwrap_or(0.0),
                w_ok: num("W_OK").unwrap_or(0.0),
            };
            Ok((host.clone().unchecked_into(), constants, Identity { pid: pid as u32, hostname }))
        }
        _ => Err(format!("installNodeVfs: the host object lacks {}", missing.join(", "))),
    }
}

/// `{ throwIfNoEntry: false }` for `statSync`.
pub fn no_throw() -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &JsValue::from_str("throwIfNoEntry"), &JsValue::FALSE);
    o.into()
}

/// `{ flag }` for `writeFileSync`: "wx" creates atomically or fails with EEXIST.
pub fn flag(flag: &str) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &JsValue::from_str("flag"), &JsValue::from_str(flag));
    o.into()
}

/// The Node error code of a thrown error (`"ENOENT"`, `"EEXIST"`...).
pub fn code(e: &JsValue) -> Option<String> {
    get(e, "code").as_string()
}

/// A thrown JS error as a VFS error: SQLite gets `code`, `xGetLastError` the message
/// and the OS errno.
pub fn vfs_error(code: VfsErrorCode, what: &str, e: &JsValue) -> VfsError {
    let message = get(e, "message").as_string().or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"));
    // As the unix VFS: no room is SQLITE_FULL ("database or disk is full"), whatever the
    // operation, not an I/O error that leaves the user guessing.
    let code = if matches!(self::code(e).as_deref(), Some("ENOSPC" | "EDQUOT")) { VfsErrorCode::Full } else { code };
    let err = VfsError::new(code, format!("{what}: {message}").into());
    match get(e, "errno").as_f64().and_then(|n| SystemErrorCode::from_raw(n.abs() as i32)) {
        Some(errno) => err.with_system_error(errno),
        None => err,
    }
}
