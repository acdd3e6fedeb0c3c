//! OPFS persistence for browsers: SQLite files in the origin-private file system through
//! `sqlite-wasm-vfs`'s pool of sync access handles. Those handles exist only in dedicated
//! workers and are exclusive, so one tab's worker holds the pool at a time: the JS side
//! takes a Web Lock, `resume`s, works, closes its connection and `pause`s.

use js_sys::{Array, Reflect};
use rsqlite_vfs::VfsFilesManager;
use sqlite_wasm_rs::WasmOsCallback;
use sqlite_wasm_vfs::sahpool::{install_prepared, OpfsSAHError, OpfsSAHPoolCfgBuilder, OpfsSAHPoolUtil, PreparedHandles};
use wasm_bindgen::prelude::*;

use super::error::to_js;
use crate::core::error::Error;

/// The SQLite VFS name a `Migrator` opens OPFS databases with.
pub const VFS_NAME: &str = "athanor-opfs";

fn opfs_error(e: OpfsSAHError) -> JsValue {
    let error = match &e {
        OpfsSAHError::NotSupported => Error::OpfsUnavailable(e.to_string()),
        // Another worker (another tab) holds the handles: retrying later helps.
        OpfsSAHError::Opfs { message, .. } if message.starts_with("NoModificationAllowedError") => {
            Error::Locked(format!("the OPFS database is held by another tab or worker ({e})"))
        }
        OpfsSAHError::DirectoryInUse(_) | OpfsSAHError::Busy => Error::Locked(e.to_string()),
        _ => Error::Io(format!("OPFS: {e}")),
    };
    to_js(error)
}

/// The `OPFS_UNAVAILABLE` error, for the JS side's own checks (one wording, here).
#[wasm_bindgen(js_name = opfsUnavailable)]
pub fn opfs_unavailable(reason: &str) -> JsValue {
    to_js(Error::OpfsUnavailable(reason.to_string()))
}

/// Free slots kept beside the stored files: a database's journal, and the database
/// itself before it exists. Each slot is a file whose handle every page load opens
/// (a few ms each), so the pool starts this small (sqlite-wasm-vfs would start at six)
/// and grows when a database needs room (`ensureRoom`).
const ROOM: usize = 3;

/// The installed pool of one directory in this worker.
#[wasm_bindgen]
pub struct OpfsPool {
    util: OpfsSAHPoolUtil,
}

/// Installs (or reuses) the pool in `directory` of the origin-private file system and
/// registers the `athanor-opfs` VFS. Fails with `OPFS_UNAVAILABLE` outside a dedicated
/// worker, in an insecure context, or in a browser without sync access handles.
/// `prepared`: the pool's handles, opened by the worker holding the pool's lock
/// (opfs-lease.js: `{ lockFile, lock, opaque, files: [[name, handle]...] }`), else
/// undefined and they are opened here, one after another.
#[wasm_bindgen(js_name = installOpfs)]
pub async fn install_opfs(directory: String, prepared: JsValue) -> Result<OpfsPool, JsValue> {
    let cfg = OpfsSAHPoolCfgBuilder::new().vfs_name(VFS_NAME).directory(&directory).initial_capacity(ROOM).build();
    // One call either way: the install's code is in the embedded wasm's size budget once.
    let handles = prepared.is_object().then(|| {
        let get = |key: &str| Reflect::get(&prepared, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let files = Array::from(&get("files"))
            .iter()
            .map(|pair| {
                let pair = Array::from(&pair);
                (pair.get(0).as_string().unwrap_or_default(), pair.get(1).unchecked_into())
            })
            .collect();
        PreparedHandles {
            lock_file: get("lockFile").unchecked_into(),
            lock: get("lock").unchecked_into(),
            opaque: get("opaque").unchecked_into(),
            files,
        }
    });
    let util = install_prepared::<WasmOsCallback>(&cfg, false, handles).await.map_err(opfs_error)?;
    // A reused pool keeps its paused state; the caller expects it usable.
    util.resume().await.map_err(opfs_error)?;
    Ok(OpfsPool { util })
}

#[wasm_bindgen]
impl OpfsPool {
    /// Releases the OPFS handles so another tab's worker can take them. Every
    /// connection on the pool must be closed first.
    pub fn pause(&self) -> Result<(), JsValue> {
        self.util.pause().map_err(opfs_error)
    }

    /// Takes the handles again (after `pause`).
    pub async fn resume(&self) -> Result<(), JsValue> {
        self.util.resume().await.map_err(opfs_error)
    }

    #[wasm_bindgen(getter, js_name = isPaused)]
    pub fn is_paused(&self) -> bool {
        self.util.is_paused()
    }

    /// Grows the pool so that it has room for one more database and its journal beside
    /// the files it stores; called before a database is opened.
    #[wasm_bindgen(js_name = ensureRoom)]
    pub async fn ensure_room(&self) -> Result<(), JsValue> {
        let stored = self.util.names().map_err(opfs_error)?.len();
        self.util.ensure_capacity(stored + ROOM - 1).await.map_err(opfs_error)
    }

    /// The database (and journal) file names stored in the pool.
    pub fn files(&self) -> Result<Vec<String>, JsValue> {
        self.util.names().map_err(opfs_error)
    }

    /// Deletes one stored file; `true` if it existed. Its connections must be closed.
    #[wasm_bindgen(js_name = removeFile)]
    pub fn remove_file(&self, name: &str) -> Result<bool, JsValue> {
        self.util.remove(name).map_err(opfs_error)
    }
}
