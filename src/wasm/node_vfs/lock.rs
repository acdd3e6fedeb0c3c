//! SQLite's lock levels between connections and processes, with nothing but files
//! (Node has no `fcntl` locks):
//!
//! - `<db>-locks`, the lock table: one tab-separated line per held level,
//!   `S|R|P|X pid id host` (shared, reserved, pending, exclusive). Replaced whole by
//!   rename, so a reader never sees half of it; deleted when empty, so an idle
//!   database has no extra files.
//! - `<db>-lock`, a mutex held only while one connection edits the table (a few
//!   syscalls): created with `O_EXCL` (`writeFileSync(..., { flag: "wx" })`) and holding
//!   its owner, unlinked after.
//!
//! Rules, as SQLite's unix VFS: SHARED is refused while another connection holds
//! PENDING or EXCLUSIVE; RESERVED and PENDING while another holds either (one writer
//! at a time); EXCLUSIVE takes PENDING first (keeping new readers out) and waits for
//! the other readers to leave. Refusals are `SQLITE_BUSY`, which SQLite's busy handler
//! retries.
//!
//! A directory this process cannot write (another user's, a read-only mount) cannot
//! hold the mutex: there a SHARED lock is taken without being recorded, when the table
//! shows no writer (reading works, as native SQLite's does there; a writer that starts
//! during the read is not kept out), and anything more is refused as read-only with
//! the directory named.
//!
//! A holder that died keeps nothing: entries whose pid is dead on this host are
//! dropped at the next edit, and a mutex whose owner is dead (or that is older than any
//! edit could take) is broken. Not coordinated with native SQLite's POSIX locks: do not
//! write the file with the `sqlite3` shell while a wasm connection is in a transaction.

use std::collections::HashMap;
use std::time::Duration;

use sqlite_wasm_rs::vfs::{LockLevel, OsCallback, VfsError, VfsErrorCode, VfsResult};
use sqlite_wasm_rs::WasmOsCallback;
use wasm_bindgen::JsValue;

use super::host::{self, NodeHost};

/// Edits take microseconds; a mutex this old belongs to a stopped or killed process.
const MUTEX_STALE_MS: f64 = 10_000.0;
/// Mutex attempts, 1 ms apart: a lock request gives up (BUSY, retried by SQLite's busy
/// handler); a release must not fail, so it outwaits `MUTEX_STALE_MS`.
const LOCK_TRIES: u32 = 1_000;
const UNLOCK_TRIES: u32 = 15_000;

/// Who holds a level: enough to tell a live holder from a dead one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub id: String,
    pub host: String,
}

impl Owner {
    fn line(&self, tag: char) -> String {
        format!("{tag}\t{}\t{}\t{}\n", self.pid, self.id, self.host)
    }

    fn parse(line: &str) -> Option<(char, Owner)> {
        let mut f = line.splitn(4, '\t');
        let tag = f.next()?.chars().next()?;
        let pid = f.next()?.parse().ok()?;
        let id = f.next()?.to_string();
        let host = f.next()?.trim_end().to_string();
        Some((tag, Owner { pid, id, host }))
    }
}

/// The lock table: who holds which level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Table {
    shared: Vec<Owner>,
    reserved: Option<Owner>,
    /// The PENDING holder, and whether it reached EXCLUSIVE.
    writer: Option<(Owner, bool)>,
}

impl Table {
    fn parse(text: &str) -> Table {
        let mut t = Table::default();
        // Unknown or torn lines are ignored: the file is only ever replaced whole.
        for (tag, owner) in text.lines().filter_map(Owner::parse) {
            match tag {
                'S' => t.shared.push(owner),
                'R' => t.reserved = Some(owner),
                'P' => t.writer = Some((owner, false)),
                'X' => t.writer = Some((owner, true)),
                _ => {}
            }
        }
        t
    }

    fn render(&self) -> String {
        let mut s: String = self.shared.iter().map(|o| o.line('S')).collect();
        if let Some(o) = &self.reserved {
            s.push_str(&o.line('R'));
        }
        if let Some((o, x)) = &self.writer {
            s.push_str(&o.line(if *x { 'X' } else { 'P' }));
        }
        s
    }

    fn is_empty(&self) -> bool {
        self.shared.is_empty() && self.reserved.is_none() && self.writer.is_none()
    }

    fn retain(&mut self, mut keep: impl FnMut(&Owner) -> bool) {
        self.shared.retain(&mut keep);
        if self.reserved.as_ref().is_some_and(|o| !keep(o)) {
            self.reserved = None;
        }
        if self.writer.as_ref().is_some_and(|(o, _)| !keep(o)) {
            self.writer = None;
        }
    }
}

/// What an edit of the table gives: the level reached, or (refused) the level kept.
type Outcome = Result<LockLevel, LockLevel>;

/// The lock state of one open main-database file.
pub struct DbLock {
    host: NodeHost,
    me: Owner,
    mutex_path: String,
    table_path: String,
    level: LockLevel,
    /// Creating the mutex was refused for want of permission: the directory is not ours to write.
    denied: std::cell::Cell<bool>,
    /// The SHARED level held is not in the table (see `denied`).
    unrecorded: bool,
}

impl DbLock {
    pub fn new(host: NodeHost, me: Owner, db_path: &str) -> DbLock {
        DbLock {
            host,
            me,
            mutex_path: format!("{db_path}-lock"),
            table_path: format!("{db_path}-locks"),
            level: LockLevel::None,
            denied: Default::default(),
            unrecorded: false,
        }
    }

    /// The level this connection holds.
    pub fn level(&self) -> LockLevel {
        self.level
    }

    pub fn lock(&mut self, level: LockLevel) -> VfsResult<()> {
        if self.level >= level {
            return Ok(());
        }
        let from = self.level;
        self.denied.set(false);
        let me = self.me.clone();
        let other = move |o: &Owner| *o != me;
        let result = self.edit(LOCK_TRIES, VfsErrorCode::IoLock, |t, me| match level {
            LockLevel::None => Ok(from),
            LockLevel::Shared => {
                if t.writer.as_ref().is_some_and(|(o, _)| other(o)) {
                    return Err(from);
                }
                t.shared.push(me.clone());
                Ok(LockLevel::Shared)
            }
            LockLevel::Reserved => {
                if t.reserved.as_ref().is_some_and(&other) || t.writer.as_ref().is_some_and(|(o, _)| other(o)) {
                    return Err(from);
                }
                t.reserved = Some(me.clone());
                Ok(LockLevel::Reserved)
            }
            LockLevel::Pending | LockLevel::Exclusive => {
                // Stricter than unix (whose PENDING ignores RESERVED): one writer at a time,
                // even on the hot-journal path that goes from SHARED straight to EXCLUSIVE.
                if t.reserved.as_ref().is_some_and(&other) || t.writer.as_ref().is_some_and(|(o, _)| other(o)) {
                    return Err(from);
                }
                t.writer = Some((me.clone(), false));
                if level == LockLevel::Pending {
                    return Ok(LockLevel::Pending);
                }
                // PENDING is kept on refusal: new readers stay out while these finish.
                if t.shared.iter().any(&other) {
                    return Err(LockLevel::Pending);
                }
                t.writer = Some((me.clone(), true));
                Ok(LockLevel::Exclusive)
            }
        });
        match result {
            Err(_) if self.denied.get() && level == LockLevel::Shared => self.share_unrecorded(),
            Err(_) if self.denied.get() => Err(VfsError::new(
                VfsErrorCode::ReadOnly,
                format!(
                    "cannot write {}: this process may not create files in its directory {}",
                    self.table_path.trim_end_matches("-locks"),
                    super::parent(&self.table_path)
                )
                .into(),
            )),
            r => r,
        }
    }

    /// SHARED where the mutex cannot be created: granted, unrecorded, unless the table
    /// (still readable) shows another connection writing.
    fn share_unrecorded(&mut self) -> VfsResult<()> {
        let mut t = self.read_table(VfsErrorCode::IoLock)?;
        self.prune(&mut t);
        if t.writer.as_ref().is_some_and(|(o, _)| *o != self.me) {
            return Err(VfsError::new(VfsErrorCode::Busy, "database is locked by another connection".into()));
        }
        self.level = LockLevel::Shared;
        self.unrecorded = true;
        Ok(())
    }

    pub fn unlock(&mut self, level: LockLevel) -> VfsResult<()> {
        if self.level <= level {
            return Ok(());
        }
        if self.unrecorded {
            // Only ever SHARED, and in no table: nothing to take back.
            self.unrecorded = level != LockLevel::None;
            self.level = level;
            return Ok(());
        }
        self.edit(UNLOCK_TRIES, VfsErrorCode::IoUnlock, |t, me| {
            if t.reserved.as_ref() == Some(me) {
                t.reserved = None;
            }
            if t.writer.as_ref().is_some_and(|(o, _)| o == me) {
                t.writer = None;
            }
            if level == LockLevel::None {
                t.shared.retain(|o| o != me);
            }
            Ok(level)
        })
    }

    /// Does anyone (this connection included) hold RESERVED or more? Read without the
    /// mutex: the table is replaced atomically.
    pub fn check_reserved(&self) -> VfsResult<bool> {
        let mut t = self.read_table(VfsErrorCode::IoCheckReservedLock)?;
        self.prune(&mut t);
        Ok(t.reserved.is_some() || t.writer.is_some())
    }

    /// Runs one edit of the table under the mutex; a refusal is `SQLITE_BUSY`, and the
    /// table is written back either way (a refused EXCLUSIVE keeps PENDING).
    fn edit(&mut self, tries: u32, code: VfsErrorCode, f: impl FnOnce(&mut Table, &Owner) -> Outcome) -> VfsResult<()> {
        if !self.acquire_mutex(tries, code)? {
            // A request may be refused (SQLite retries); a failed release is an I/O error.
            let code = if code == VfsErrorCode::IoUnlock { code } else { VfsErrorCode::Busy };
            return Err(VfsError::new(code, format!("{} is held by another connection", self.mutex_path).into()));
        }
        let result = self.edit_locked(code, f);
        let released = self.release_mutex(code);
        let outcome = result?;
        released?;
        match outcome {
            Ok(level) => {
                self.level = level;
                Ok(())
            }
            Err(level) => {
                self.level = level;
                Err(VfsError::new(VfsErrorCode::Busy, "database is locked by another connection".into()))
            }
        }
    }

    fn edit_locked(&self, code: VfsErrorCode, f: impl FnOnce(&mut Table, &Owner) -> Outcome) -> VfsResult<Outcome> {
        let before = self.read_table(code)?;
        let mut t = before.clone();
        self.prune(&mut t);
        let outcome = f(&mut t, &self.me);
        if t != before {
            self.write_table(&t, code)?;
        }
        Ok(outcome)
    }

    fn read_table(&self, code: VfsErrorCode) -> VfsResult<Table> {
        match self.host.read_file_sync(&self.table_path, "utf8") {
            Ok(text) => Ok(Table::parse(&text)),
            Err(e) if host::code(&e).as_deref() == Some("ENOENT") => Ok(Table::default()),
            Err(e) => Err(host::vfs_error(code, &format!("read {}", self.table_path), &e)),
        }
    }

    fn write_table(&self, t: &Table, code: VfsErrorCode) -> VfsResult<()> {
        let fail = |what: &str, e: &JsValue| host::vfs_error(code, &format!("{what} {}", self.table_path), e);
        if t.is_empty() {
            return match self.host.unlink_sync(&self.table_path) {
                Err(e) if host::code(&e).as_deref() != Some("ENOENT") => Err(fail("unlink", &e)),
                _ => Ok(()),
            };
        }
        // Only the mutex holder writes, so one fixed temporary name suffices.
        let tmp = format!("{}.tmp", self.table_path);
        self.host.write_file_sync(&tmp, &t.render(), &host::flag("w")).map_err(|e| fail("write", &e))?;
        self.host.rename_sync(&tmp, &self.table_path).map_err(|e| fail("rename", &e))
    }

    /// Drops entries of dead processes on this host (another host's pids mean nothing here).
    fn prune(&self, t: &mut Table) {
        let mut alive: HashMap<u32, bool> = HashMap::new();
        t.retain(|o| o.host != self.me.host || o.pid == self.me.pid || *alive.entry(o.pid).or_insert_with(|| self.alive(o.pid)));
    }

    fn alive(&self, pid: u32) -> bool {
        // No process has pid 0 (kill(0) would ask about our own process group, and say
        // alive forever), nor one above i32::MAX (Node refuses to ask): such an entry
        // is forged or torn, and stale.
        if pid == 0 || pid > i32::MAX as u32 {
            return false;
        }
        // When in doubt, alive: wrongly breaking a live lock would corrupt the database.
        self.host.process_alive(f64::from(pid)).unwrap_or(true)
    }

    fn acquire_mutex(&self, tries: u32, code: VfsErrorCode) -> VfsResult<bool> {
        let line = self.me.line('M');
        for _ in 0..tries {
            match self.host.write_file_sync(&self.mutex_path, &line, &host::flag("wx")) {
                Ok(()) => return Ok(true),
                Err(e) if host::code(&e).as_deref() == Some("EEXIST") => {
                    if !self.break_if_stale(code)? {
                        WasmOsCallback.sleep(Duration::from_millis(1));
                    }
                }
                Err(e) => {
                    self.denied.set(matches!(host::code(&e).as_deref(), Some("EACCES" | "EPERM" | "EROFS")));
                    return Err(host::vfs_error(code, &format!("create {}", self.mutex_path), &e));
                }
            }
        }
        Ok(false)
    }

    fn release_mutex(&self, code: VfsErrorCode) -> VfsResult<()> {
        // Unlink only our own mutex: if ours was broken as stale, the file is another's.
        match self.host.read_file_sync(&self.mutex_path, "utf8") {
            Ok(text) if text == self.me.line('M') => {}
            _ => return Ok(()),
        }
        match self.host.unlink_sync(&self.mutex_path) {
            Err(e) if host::code(&e).as_deref() != Some("ENOENT") => Err(host::vfs_error(code, &format!("unlink {}", self.mutex_path), &e)),
            _ => Ok(()),
        }
    }

    /// Breaks the mutex if its owner is dead or it is too old; true if it is gone.
    fn break_if_stale(&self, code: VfsErrorCode) -> VfsResult<bool> {
        let seen = match self.host.read_file_sync(&self.mutex_path, "utf8") {
            Ok(text) => text,
            Err(e) if host::code(&e).as_deref() == Some("ENOENT") => return Ok(true),
            Err(e) => return Err(host::vfs_error(code, &format!("read {}", self.mutex_path), &e)),
        };
        let dead_owner = match Owner::parse(&seen) {
            Some((_, o)) => o.host == self.me.host && o.pid != self.me.pid && !self.alive(o.pid),
            None => false,
        };
        let too_old = match self.host.stat_sync(&self.mutex_path, &host::no_throw()) {
            Ok(Some(st)) => js_sys::Date::now() - st.mtime_ms() > MUTEX_STALE_MS,
            Ok(None) => return Ok(true),
            Err(_) => false,
        };
        if !dead_owner && !too_old {
            return Ok(false);
        }
        // Move it aside and check it is still the one judged stale: two processes may
        // break the same mutex at once, and the second must not remove the first's new one.
        let aside = format!("{}.stale-{}", self.mutex_path, self.me.id);
        if self.host.rename_sync(&self.mutex_path, &aside).is_err() {
            return Ok(true);
        }
        match self.host.read_file_sync(&aside, "utf8") {
            Ok(text) if text != seen => {
                let _ = self.host.rename_sync(&aside, &self.mutex_path);
                Ok(false)
            }
            _ => {
                let _ = self.host.unlink_sync(&aside);
                Ok(true)
            }
        }
    }
}
