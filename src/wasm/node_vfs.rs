//! "athanor-node": a SQLite VFS over real files in Node, so the wasm SQLite reads and
//! writes an ordinary database file page by page, as native SQLite does: rollback
//! journal beside it (`<db>-journal`), `fsync` on every sync SQLite asks for (and on
//! the directory after creating a journal), and locks between connections and
//! processes kept in files (see `lock.rs`).
//!
//! Node's `fs` comes in from JS (`installNodeVfs(nodeVfsHost())`, see
//! pkg-template/node-vfs.js): the same .wasm must load where there is no `node:fs`.

mod host;
mod lock;

use std::cell::{Cell, RefCell};

use sqlite_wasm_rs::vfs::{
    register_vfs, AccessMode, DeviceCharacteristics, FileKind, LockLevel, MemChunksFile, OpenAccess, OpenOptions, OpenRequest, OpenedFile,
    OsCallback, SQLiteIoMethods, SQLiteVfs, SyncOptions, VfsError, VfsErrorCode, VfsFile, VfsResult, VfsStore,
};
use sqlite_wasm_rs::WasmOsCallback;
use wasm_bindgen::prelude::*;

use self::host::{Constants, Identity, NodeHost};
use self::lock::{DbLock, Owner};
use super::error::to_js;
use crate::core::error::Error;

/// The name to open a connection with (`open_with_flags_and_vfs`).
pub const VFS_NAME: &str = "athanor-node";

/// Files keep the default mode of SQLite's unix VFS (before the umask).
const FILE_MODE: f64 = 0o644 as f64;
/// Node takes file positions as doubles: past 2^53 they would silently round.
const MAX_POSITION: u64 = 1 << 53;

thread_local! {
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
    static LAST_ERROR: RefCell<Option<VfsError>> = const { RefCell::new(None) };
}

/// Registers the "athanor-node" VFS with the given host object (Node's synchronous fs
/// calls and process identity, as `nodeVfsHost()` in node-vfs.js builds it). Idempotent:
/// once installed, later calls change nothing. It does not become SQLite's default VFS;
/// `Migrator` picks it for file paths.
#[wasm_bindgen(js_name = installNodeVfs)]
pub fn install_node_vfs(host: JsValue) -> Result<(), JsValue> {
    let (host, constants, identity) = host::validate(&host).map_err(|m| to_js(Error::Usage(m)))?;
    if INSTALLED.get() {
        return Ok(());
    }
    let data = AppData { host, constants, identity, os: WasmOsCallback, next_owner: Cell::new(0) };
    // SAFETY: wasm32 is single-threaded, so nothing races this registration; NodeIo and
    // NodeVfs are built over the same store and file layout.
    let registration = unsafe { register_vfs::<NodeIo, NodeVfs>(VFS_NAME, data, false) }
        .map_err(|e| to_js(Error::Io(format!("cannot register the {VFS_NAME} VFS: {e}"))))?;
    // Registered for the life of the instance: open connections keep pointers into it.
    let _ = registration.into_raw();
    INSTALLED.set(true);
    Ok(())
}

/// Has `installNodeVfs` run in this instance?
pub(crate) fn installed() -> bool {
    INSTALLED.get()
}

/// Opens `database` with `vfs` (SQLite's default when `None`), ready for migrating
/// (`prepare_connection`, waiting `busy` for other writers). A failure to open is
/// `IO_ERROR` with the host's reason: SQLite itself only says "unable to open database file".
pub(crate) fn open(
    database: &str,
    flags: rusqlite::OpenFlags,
    vfs: Option<&str>,
    busy: Option<std::time::Duration>,
) -> Result<rusqlite::Connection, Error> {
    LAST_ERROR.with(|e| e.replace(None));
    let conn = match vfs {
        Some(vfs) => rusqlite::Connection::open_with_flags_and_vfs(database, flags, vfs),
        None => rusqlite::Connection::open_with_flags(database, flags),
    }
    .map_err(|e| {
        let why = LAST_ERROR.with(|l| l.borrow().as_ref().map(|l| format!(" ({})", l.message()))).unwrap_or_default();
        Error::Io(format!("cannot open database '{database}': {e}{why}"))
    })?;
    crate::sqlite::prepare_connection(&conn, busy)?;
    Ok(conn)
}

struct AppData {
    host: NodeHost,
    constants: Constants,
    identity: Identity,
    os: WasmOsCallback,
    next_owner: Cell<u64>,
}

impl AppData {
    /// A lock owner unique across connections, instances (workers share a pid) and runs.
    fn new_owner(&self) -> Owner {
        let mut bytes = [0u8; 8];
        self.os.random(&mut bytes);
        let seq = self.next_owner.get();
        self.next_owner.set(seq + 1);
        Owner { pid: self.identity.pid, id: format!("{:016x}-{seq}", u64::from_le_bytes(bytes)), host: self.identity.hostname.clone() }
    }
}

fn position(offset: u64, len: usize, code: VfsErrorCode) -> VfsResult<f64> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= MAX_POSITION => Ok(offset as f64),
        _ => Err(VfsError::new(code, "file offset beyond 2^53 bytes".into())),
    }
}

/// The directory holding `path` (already absolute: `full_pathname` resolved it).
fn parent(path: &str) -> &str {
    match path.rfind(['/', '\\']) {
        Some(0) => &path[..1],
        Some(i) => &path[..i],
        None => ".",
    }
}

/// Makes a directory entry durable (a new journal, a deleted one), as the unix VFS
/// does; a directory that cannot be opened (Windows) is skipped, as there.
fn sync_directory(host: &NodeHost, constants: &Constants, path: &str) -> VfsResult<()> {
    let dir = parent(path);
    let Ok(fd) = host.open_sync(dir, constants.o_rdonly, 0.0) else {
        return Ok(());
    };
    let synced = host.fsync_sync(fd).map_err(|e| host::vfs_error(VfsErrorCode::IoDirectorySync, &format!("fsync {dir}"), &e));
    let _ = host.close_sync(fd);
    synced
}

/// An open file: on disk, or in memory for SQLite's anonymous temporaries.
enum NodeFile {
    Disk(DiskFile),
    Memory(MemChunksFile),
}

impl NodeFile {
    fn inner(&self) -> &dyn VfsFile {
        match self {
            NodeFile::Disk(f) => f,
            NodeFile::Memory(m) => m,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn VfsFile {
        match self {
            NodeFile::Disk(f) => f,
            NodeFile::Memory(m) => m,
        }
    }
}

impl VfsFile for NodeFile {
    fn device_characteristics(&self) -> DeviceCharacteristics {
        self.inner().device_characteristics()
    }
    fn read(&mut self, buf: &mut [u8], offset: u64) -> VfsResult<usize> {
        self.inner_mut().read(buf, offset)
    }
    fn write(&mut self, buf: &[u8], offset: u64) -> VfsResult<()> {
        self.inner_mut().write(buf, offset)
    }
    fn truncate(&mut self, size: u64) -> VfsResult<()> {
        self.inner_mut().truncate(size)
    }
    fn sync(&mut self, options: SyncOptions) -> VfsResult<()> {
        self.inner_mut().sync(options)
    }
    fn size(&self) -> VfsResult<u64> {
        self.inner().size()
    }
    fn lock(&mut self, level: LockLevel) -> VfsResult<()> {
        self.inner_mut().lock(level)
    }
    fn unlock(&mut self, level: LockLevel) -> VfsResult<()> {
        self.inner_mut().unlock(level)
    }
    fn check_reserved_lock(&self) -> VfsResult<bool> {
        self.inner().check_reserved_lock()
    }
}

struct DiskFile {
    host: NodeHost,
    constants: Constants,
    fd: f64,
    path: String,
    read_only: bool,
    /// A newly created journal: its directory entry is synced with its first sync.
    sync_dir: bool,
    /// Main databases only; journals are covered by the database's lock.
    lock: Option<DbLock>,
}

impl DiskFile {
    fn err(&self, code: VfsErrorCode, op: &str, e: &JsValue) -> VfsError {
        host::vfs_error(code, &format!("{op} {}", self.path), e)
    }

    fn writable(&self) -> VfsResult<()> {
        if self.read_only {
            return Err(VfsError::new(VfsErrorCode::ReadOnly, format!("{} is open read-only", self.path).into()));
        }
        Ok(())
    }

    fn still_at_path(&self) -> VfsResult<()> {
        let open = self.host.fstat_sync(self.fd).map_err(|e| self.err(VfsErrorCode::IoStat, "fstat", &e))?;
        let there = self.host.stat_sync(&self.path, &host::no_throw()).map_err(|e| self.err(VfsErrorCode::IoStat, "stat", &e))?;
        match there {
            Some(st) if st.ino() == open.ino() && st.dev() == open.dev() => Ok(()),
            _ => Err(VfsError::new(
                VfsErrorCode::ReadOnly,
                format!("{} was removed or replaced since this connection opened it; nothing was written, run again", self.path).into(),
            )),
        }
    }

    /// A byte count from Node, checked: anything else is an I/O error, not a guess.
    fn count(&self, n: f64, max: usize, code: VfsErrorCode) -> VfsResult<usize> {
        if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max as f64 {
            Ok(n as usize)
        } else {
            Err(VfsError::new(code, format!("{}: host returned a bad byte count {n}", self.path).into()))
        }
    }
}

impl VfsFile for DiskFile {
    // As the unix VFS's default: a write never disturbs bytes outside its range.
    fn device_characteristics(&self) -> DeviceCharacteristics {
        DeviceCharacteristics::POWERSAFE_OVERWRITE
    }

    fn read(&mut self, buf: &mut [u8], offset: u64) -> VfsResult<usize> {
        position(offset, buf.len(), VfsErrorCode::IoRead)?;
        let mut done = 0;
        while done < buf.len() {
            let rest = buf.len() - done;
            let n = self
                .host
                .read_sync(self.fd, &mut buf[done..], 0.0, rest as f64, (offset + done as u64) as f64)
                .map_err(|e| self.err(VfsErrorCode::IoRead, "read", &e))?;
            let n = self.count(n, rest, VfsErrorCode::IoRead)?;
            if n == 0 {
                break; // end of file: the caller zero-fills the rest
            }
            done += n;
        }
        Ok(done)
    }

    fn write(&mut self, buf: &[u8], offset: u64) -> VfsResult<()> {
        self.writable()?;
        position(offset, buf.len(), VfsErrorCode::IoWrite)?;
        let mut done = 0;
        while done < buf.len() {
            let rest = buf.len() - done;
            let n = self
                .host
                .write_sync(self.fd, &buf[done..], 0.0, rest as f64, (offset + done as u64) as f64)
                .map_err(|e| self.err(VfsErrorCode::IoWrite, "write", &e))?;
            match self.count(n, rest, VfsErrorCode::IoWrite)? {
                0 => return Err(VfsError::new(VfsErrorCode::IoWrite, format!("write {}: no progress", self.path).into())),
                n => done += n,
            }
        }
        Ok(())
    }

    fn truncate(&mut self, size: u64) -> VfsResult<()> {
        self.writable()?;
        let size = position(size, 0, VfsErrorCode::IoTruncate)?;
        self.host.ftruncate_sync(self.fd, size).map_err(|e| self.err(VfsErrorCode::IoTruncate, "ftruncate", &e))
    }

    // Always a full fsync: doing more than a data-only sync asks for is allowed.
    fn sync(&mut self, _options: SyncOptions) -> VfsResult<()> {
        self.host.fsync_sync(self.fd).map_err(|e| self.err(VfsErrorCode::IoSync, "fsync", &e))?;
        if self.sync_dir {
            sync_directory(&self.host, &self.constants, &self.path)?;
            self.sync_dir = false;
        }
        Ok(())
    }

    fn size(&self) -> VfsResult<u64> {
        let stats = self.host.fstat_sync(self.fd).map_err(|e| self.err(VfsErrorCode::IoStat, "fstat", &e))?;
        let size = stats.size();
        if size.is_finite() && size >= 0.0 && size.fract() == 0.0 && size <= MAX_POSITION as f64 {
            Ok(size as u64)
        } else {
            Err(VfsError::new(VfsErrorCode::IoStat, format!("{}: host returned a bad size {size}", self.path).into()))
        }
    }

    fn lock(&mut self, level: LockLevel) -> VfsResult<()> {
        let Some(lock) = self.lock.as_mut() else { return Ok(()) };
        let before = lock.level();
        lock.lock(level)?;
        // About to write: the file must still be the one at its path. One removed (a
        // failed run cleaning up a database it created) or replaced while this
        // connection waited would take the writes with it, reported as a success. The
        // unix VFS checks the same before writing (SQLITE_READONLY_DBMOVED).
        if before < LockLevel::Reserved && level >= LockLevel::Reserved {
            if let Err(e) = self.still_at_path() {
                let _ = self.lock.as_mut().map(|l| l.unlock(before));
                return Err(e);
            }
        }
        Ok(())
    }

    fn unlock(&mut self, level: LockLevel) -> VfsResult<()> {
        self.lock.as_mut().map_or(Ok(()), |l| l.unlock(level))
    }

    fn check_reserved_lock(&self) -> VfsResult<bool> {
        self.lock.as_ref().map_or(Ok(false), |l| l.check_reserved())
    }
}

struct NodeStore;

/// A database in WAL mode needs shared memory between its connections, which Node
/// cannot give (and this VFS does not offer): refused with the way out, before SQLite
/// reads it (SQLite alone would say "file is not a database").
fn wal_mode(data: &AppData, fd: f64, path: &str) -> Option<String> {
    let mut header = [0u8; 20];
    let n = data.host.read_sync(fd, &mut header, 0.0, 20.0, 0.0).ok()?;
    let wal = n as usize == header.len() && header.starts_with(b"SQLite format 3\0") && (header[18] == 2 || header[19] == 2);
    wal.then(|| {
        format!(
            "{path} is in WAL mode (journal_mode=WAL), which athanor cannot open from Node; \
             close the apps using it and switch it to a rollback journal first: \
             sqlite3 {path} 'PRAGMA journal_mode=DELETE'"
        )
    })
}

impl NodeStore {
    fn open_fd(data: &AppData, path: &str, options: OpenOptions) -> VfsResult<(f64, OpenAccess)> {
        let c = &data.constants;
        let flag = |v: f64| v as i64;
        let mut flags = flag(if options.access() == OpenAccess::ReadWrite { c.o_rdwr } else { c.o_rdonly });
        if options.create() {
            flags |= flag(c.o_creat);
        }
        if options.exclusive() {
            flags |= flag(c.o_excl);
        }
        let fail = |e: &JsValue| host::vfs_error(VfsErrorCode::CantOpen, &format!("open {path}"), e);
        let denied = |e: &JsValue| matches!(host::code(e).as_deref(), Some("EACCES" | "EPERM" | "EROFS"));
        match data.host.open_sync(path, flags as f64, FILE_MODE) {
            Ok(fd) => Ok((fd, options.access())),
            // As the unix VFS: a file this process may not write is opened read-only.
            Err(e) if options.access() == OpenAccess::ReadWrite && denied(&e) => {
                let fd = data.host.open_sync(path, c.o_rdonly, FILE_MODE).map_err(|_| fail(&e))?;
                Ok((fd, OpenAccess::ReadOnly))
            }
            Err(e) => Err(fail(&e)),
        }
    }
}

impl VfsStore for NodeStore {
    type File = NodeFile;
    type AppData = AppData;

    fn record_error(_data: &AppData, error: VfsError) {
        LAST_ERROR.with(|e| e.replace(Some(error)));
    }

    fn last_error(_data: &AppData) -> Option<VfsError> {
        LAST_ERROR.with(|e| e.borrow().clone())
    }

    fn open_file(data: &AppData, request: OpenRequest<'_>) -> VfsResult<OpenedFile<NodeFile>> {
        let options = request.options;
        let Some(name) = request.filename else {
            // Anonymous temporaries (statement journals, sorter spills) die with the
            // connection: memory, as SQLite's default VFS here keeps them.
            return Ok(OpenedFile { file: NodeFile::Memory(MemChunksFile::default()), access: options.access() });
        };
        let path = name.path();
        let (fd, access) = Self::open_fd(data, path, options)?;
        let kind = options.kind();
        if kind == Some(FileKind::MainDb) {
            if let Some(why) = wal_mode(data, fd, path) {
                let _ = data.host.close_sync(fd);
                return Err(VfsError::new(VfsErrorCode::CantOpen, why.into()));
            }
        }
        let file = DiskFile {
            host: data.host.clone(),
            constants: data.constants,
            fd,
            path: path.to_string(),
            read_only: access == OpenAccess::ReadOnly,
            sync_dir: options.create() && matches!(kind, Some(FileKind::MainJournal | FileKind::SuperJournal | FileKind::Wal)),
            lock: (kind == Some(FileKind::MainDb)).then(|| DbLock::new(data.host.clone(), data.new_owner(), path)),
        };
        Ok(OpenedFile { file: NodeFile::Disk(file), access })
    }

    fn close_file(data: &AppData, name: Option<&str>, file: NodeFile, options: OpenOptions) -> VfsResult<()> {
        let NodeFile::Disk(mut f) = file else {
            return Ok(());
        };
        // SQLite unlocks before closing; this only matters if it could not.
        let unlocked = f.lock.as_mut().map_or(Ok(()), |l| l.unlock(LockLevel::None));
        let closed = data.host.close_sync(f.fd).map_err(|e| f.err(VfsErrorCode::IoClose, "close", &e));
        let deleted = match name {
            Some(name) if options.delete_on_close() => Self::delete_file(data, name, false),
            _ => Ok(()),
        };
        unlocked.and(closed).and(deleted)
    }

    fn access(data: &AppData, name: &str, mode: AccessMode) -> VfsResult<bool> {
        let c = &data.constants;
        match mode {
            AccessMode::Exists => match data.host.stat_sync(name, &host::no_throw()) {
                Ok(None) => Ok(false),
                // As the unix VFS: an empty regular file does not count (an emptied
                // journal is no journal).
                Ok(Some(st)) => Ok(!st.is_file().unwrap_or(true) || st.size() > 0.0),
                Err(e) => Err(host::vfs_error(VfsErrorCode::IoAccess, &format!("stat {name}"), &e)),
            },
            AccessMode::Read => Ok(data.host.access_sync(name, c.r_ok).is_ok()),
            AccessMode::ReadWrite => Ok(data.host.access_sync(name, f64::from(c.r_ok as i32 | c.w_ok as i32)).is_ok()),
        }
    }

    // Absolute, so the journal and lock files sit beside the database whatever the cwd.
    fn full_pathname(data: &AppData, name: &str) -> VfsResult<String> {
        data.host.resolve(name).map_err(|e| host::vfs_error(VfsErrorCode::CantOpen, &format!("resolve {name}"), &e))
    }

    fn delete_file(data: &AppData, name: &str, sync_dir: bool) -> VfsResult<()> {
        if let Err(e) = data.host.unlink_sync(name) {
            let code = if host::code(&e).as_deref() == Some("ENOENT") { VfsErrorCode::IoDeleteNoEntry } else { VfsErrorCode::IoDelete };
            return Err(host::vfs_error(code, &format!("unlink {name}"), &e));
        }
        if sync_dir {
            sync_directory(&data.host, &data.constants, name)?;
        }
        Ok(())
    }
}

struct NodeIo;

impl SQLiteIoMethods for NodeIo {
    type Store = NodeStore;
}

struct NodeVfs;

impl SQLiteVfs<NodeIo> for NodeVfs {
    // Sleep is `Atomics.wait`: it really blocks in Node, so `busy_timeout` waits.
    type Os = WasmOsCallback;

    fn os(data: &AppData) -> &WasmOsCallback {
        &data.os
    }
}
