// The right to use one OPFS pool: a Web Lock shared by every tab and worker of the
// origin, plus the pool's sync access handles, which are exclusive. A worker keeps both
// between operations (reopening costs tens of milliseconds) and gives them up as soon as
// another context queues for the lock: it hears of that on a BroadcastChannel and checks
// with navigator.locks.query(), and checks again after each of its own operations.
// opfs-worker.js takes the lock at its first line, before the wasm has arrived: the pool's
// files open meanwhile (openPoolFiles) and the wasm installs the pool on them.

import { toMigrationError } from "./errors.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const leases = new Map(); // directory -> Lease, one per worker

/** The pool directory's `.lock` file and `.opaque` directory, and the files `.opaque`
 * lists: found without the lock (nothing is opened), from the worker's first line, so
 * that once the lock is granted only the sync access handles are left to ask for. Each
 * step here is a round trip to the browser; after the grant they had waited behind the
 * parse, which holds the worker's thread (5-10 ms at 1,000 revisions). Null when the
 * directory is not one the pool can use (the wasm says why). */
async function findPoolFiles(directory) {
  try {
    const dir = await poolDirectory(directory, true);
    if (!dir) return null;
    const [lockFile, opaque] = await Promise.all([dir.getFileHandle(".lock", { create: true }), dir.getDirectoryHandle(".opaque", { create: true })]);
    return { lockFile, opaque, listed: await listFiles(opaque) };
  } catch {
    return null;
  }
}

/** The handle of the pool's `directory` (a path in the origin-private file system),
 * made with its parents when `create`; null when the path is not one the pool can use
 * (the wasm says why). Rejects when it is not there and not to be made. */
export async function poolDirectory(directory, create) {
  const parts = typeof directory === "string" ? directory.split("/").filter(Boolean) : [];
  if (!parts.length || parts.some((p) => p === "." || p === ".." || p.includes("\0"))) return null;
  let dir = await navigator.storage.getDirectory();
  for (const part of parts) dir = await dir.getDirectoryHandle(part, { create });
  return dir;
}

/** The files in `opaque`, as `[name, handle]`. */
async function listFiles(opaque) {
  const files = [];
  for await (const [name, handle] of opaque.entries()) if (handle.kind === "file") files.push([name, handle]);
  return files;
}

/** Opens the pool's files as sqlite-wasm-vfs's install would (the `.lock` file, every
 * file of `.opaque`), all at once: there, one after another, they were most of a warm
 * reload's 10-18 ms pool opening. Called holding the lock, with what findPoolFiles
 * found; every request is made before this first waits, so they complete while the
 * parse holds the thread. `.opaque` is listed again beside them: another context may
 * have added or removed a slot before the lock was ours, and the listing as it is now
 * decides (a missed slot would hide a database). Null if anything fails: the wasm then
 * opens them itself and says what is wrong (LOCKED while a closing tab still holds
 * them, IO_ERROR...). */
async function openPoolFiles(found) {
  if (!found) return null;
  const { lockFile, opaque, listed } = found;
  const opening = [];
  try {
    opening.push(lockFile.createSyncAccessHandle());
    for (const [, handle] of listed) opening.push(handle.createSyncAccessHandle());
    const now = listFiles(opaque);
    const [lock, ...handles] = await Promise.all(opening);
    const early = new Map(listed.map(([name], i) => [name, handles[i]]));
    const files = [];
    for (const [name, handle] of await now) {
      let sync = early.get(name);
      early.delete(name);
      if (!sync) {
        const late = handle.createSyncAccessHandle();
        opening.push(late);
        sync = await late;
      }
      files.push([name, sync]);
    }
    // Gone since they were found: not the pool's any more.
    for (const sync of early.values()) sync.close();
    return { lockFile, lock, opaque, files };
  } catch {
    for (const r of await Promise.allSettled(opening)) if (r.status === "fulfilled") r.value.close?.();
    return null;
  }
}

/** Closes what openPoolFiles opened, when the wasm that would take them never came. */
function closeFiles(files) {
  if (!files) return;
  files.lock.close();
  for (const [, handle] of files.files) handle.close();
}

export class Lease {
  #wasm; // Promise of the wasm's exports (they may arrive after the lock)
  #provide;
  #name;
  #directory;
  #channel;
  #pool = null; // Promise<OpfsPool> once installed (kept while paused)
  #held = null; // Promise<OpfsPool> while the lock is held or being taken
  #active = null; // the OpfsPool while its handles are ours
  #unlock = null;
  #busy = 0;
  #found = null; // Promise of findPoolFiles, until the pool is installed
  #requested = null; // Promise: the lock is ours and the pool's files are asked for
  #queue = Promise.resolve();
  /** Callbacks that close this worker's connections before the pool is paused. */
  closers = new Set();

  /** This worker's lease of `directory`; `wasm` may come later (`provide`). */
  static for(wasm, directory) {
    let lease = leases.get(directory);
    if (!lease) leases.set(directory, (lease = new Lease(directory)));
    if (wasm) lease.provide(wasm);
    return lease;
  }

  constructor(directory) {
    this.#wasm = new Promise((resolve, reject) => (this.#provide = { resolve, reject }));
    this.#wasm.catch(() => {});
    this.#directory = directory;
    this.#name = `athanor:opfs:${directory}`;
    this.#channel = new BroadcastChannel(this.#name);
    this.#channel.onmessage = () => this.#releaseIfWanted();
  }

  /** The wasm's exports, or why it could not load (a lock taken early is then let go). */
  provide(wasm) {
    this.#provide.resolve(wasm);
  }
  fail(error) {
    this.#provide.reject(error);
  }

  /** Takes the lock and the pool (once; later calls share it). */
  take() {
    if (this.#held) return this.#held;
    // Whoever holds the lock hears that someone waits; again while we wait, since the
    // message may arrive before the lock manager has our request.
    this.#channel.postMessage("want");
    const nudge = setInterval(() => this.#channel.postMessage("want"), 50);
    if (!this.#pool) this.#found ??= findPoolFiles(this.#directory);
    let requested;
    this.#requested = new Promise((r) => (requested = r));
    this.#held = new Promise((resolve, reject) => {
      navigator.locks
        .request(this.#name, () => new Promise((unlock) => {
          clearInterval(nudge);
          this.#unlock = unlock;
          this.#activate(requested).then((pool) => {
            this.#active = pool;
            resolve(pool);
            // A context that asked meanwhile was not answered (see #releaseIfWanted).
            this.#releaseIfWanted();
          }, (e) => {
            this.#unlock = null;
            this.#held = null;
            unlock();
            requested();
            reject(e);
          });
        }))
        .catch((e) => {
          clearInterval(nudge);
          requested();
          reject(e);
        });
    });
    return this.#held;
  }

  /** Resolves once the lock is ours and the pool's files are asked for (opening them
   * is mostly waiting on the browser): work started then overlaps it. */
  get requested() {
    return this.#requested ?? this.take().then(() => {});
  }

  /** Installs or resumes the pool; `requested()` once the files are asked for. A
   * context that just gave up the lock may still hold the handles for a moment (a
   * closing tab's worker is torn down asynchronously). */
  async #activate(requested) {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.#pool) {
          // The files open while the wasm may still be on its way.
          const files = openPoolFiles(await (this.#found ??= findPoolFiles(this.#directory)));
          requested();
          const wasm = await this.#wasm.catch(async (e) => {
            closeFiles(await files);
            throw e;
          });
          const installing = wasm.installOpfs(this.#directory, (await files) ?? undefined);
          this.#pool = installing;
          installing.then(() => (this.#found = null), () => (this.#pool = null));
          return await installing;
        }
        requested();
        const pool = await this.#pool;
        if (pool.isPaused) await pool.resume();
        return pool;
      } catch (e) {
        if (e?.code !== "LOCKED" || attempt >= 50) throw toMigrationError(e);
        await sleep(20 + attempt * 10);
      }
    }
  }

  /** Runs `fn(pool)` holding the lock and the pool; one operation at a time. */
  run(fn) {
    const result = this.#queue.then(async () => {
      this.#busy++;
      try {
        return await fn(await this.take());
      } finally {
        this.#busy--;
        this.#releaseIfWanted();
      }
    });
    this.#queue = result.catch(() => {});
    return result;
  }

  // Not while the pool is being set up (#active unset): its handles would outlive the
  // lock. It checks again once set up.
  async #releaseIfWanted() {
    if (this.#busy || !this.#unlock || !this.#active) return;
    const { pending = [] } = await navigator.locks.query();
    if (this.#busy || !this.#unlock || !this.#active || !pending.some((r) => r.name === this.#name)) return;
    this.release();
  }

  /** Closes this worker's connections, pauses the pool and lets the lock go. */
  release() {
    if (!this.#unlock) return;
    const unlock = this.#unlock;
    const pool = this.#active;
    this.#unlock = this.#held = this.#active = null;
    try {
      for (const close of this.closers) close();
      pool?.pause();
    } catch {
      // The next holder retries while the handles are still ours; the lock must go.
    } finally {
      unlock();
    }
  }
}
