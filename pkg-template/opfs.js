// OPFS databases, inside a dedicated worker (the only place sync access handles exist).
// Every operation runs under one Web Lock per pool directory, shared by all tabs and
// workers of the origin: the holder resumes the pool (takes the OPFS handles), opens the
// database, works, closes it and pauses the pool, so the next tab finds it free. Reading
// the version table happens inside the lock, so two tabs never apply a migration twice.

import { MigrationError, toMigrationError } from "./errors.js";

export const DEFAULT_DIRECTORY = ".athanor";

const pools = new Map(); // directory -> Promise<OpfsPool>, one per worker

/** Why OPFS cannot be used in this context, or null when it can. */
export function opfsUnavailableReason() {
  const g = globalThis;
  if (typeof g.WorkerGlobalScope === "undefined" || typeof g.DedicatedWorkerGlobalScope === "undefined" || !(g instanceof g.DedicatedWorkerGlobalScope)) {
    return "not in a dedicated worker";
  }
  if (g.isSecureContext === false) return "not a secure context (serve over https or from localhost)";
  if (typeof g.FileSystemSyncAccessHandle === "undefined" || typeof g.navigator?.storage?.getDirectory !== "function") {
    return "this browser has no OPFS sync access handles";
  }
  if (typeof g.navigator?.locks?.request !== "function") return "this browser has no Web Locks";
  return null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Takes the pool's handles. A tab that just closed may still hold them for a moment
 * after its lock is gone (its worker is torn down asynchronously): retry briefly. */
async function acquire(wasm, directory) {
  for (let attempt = 0; ; attempt++) {
    try {
      let pool = pools.get(directory);
      if (!pool) {
        pool = wasm.installOpfs(directory);
        pools.set(directory, pool);
        pool.catch(() => pools.delete(directory));
        return await pool;
      }
      const p = await pool;
      if (p.isPaused) await p.resume();
      return p;
    } catch (e) {
      if (e?.code !== "LOCKED" || attempt >= 50) throw toMigrationError(e);
      await sleep(20 + attempt * 10);
    }
  }
}

/** The migrator API over an OPFS database, for code already in a dedicated worker. */
export class OpfsMigrator {
  #wasm;
  #inner;
  #directory;
  #lock;
  #onProgress;

  constructor(wasm, inner, { directory, onProgress }) {
    this.#wasm = wasm;
    this.#inner = inner;
    this.#directory = directory;
    this.#lock = `athanor:opfs:${directory}`;
    this.#onProgress = onProgress;
  }

  /** Runs `fn(inner)` with the database open, holding the Web Lock and the OPFS pool. */
  async #withDatabase(fn) {
    if (!this.#inner) throw new MigrationError("the migrator is closed", "USAGE");
    return navigator.locks.request(this.#lock, async () => {
      const pool = await acquire(this.#wasm, this.#directory);
      try {
        this.#inner.openDatabase();
        try {
          return fn(this.#inner);
        } finally {
          this.#inner.closeDatabase();
        }
      } catch (e) {
        throw toMigrationError(e);
      } finally {
        pool.pause();
      }
    });
  }

  #progress(options) {
    return options?.onProgress ?? this.#onProgress ?? null;
  }

  upgrade(target = "heads", options) {
    return this.#withDatabase((m) => m.upgrade(target, this.#progress(options)));
  }
  downgrade(target, options) {
    return this.#withDatabase((m) => m.downgrade(target, this.#progress(options)));
  }
  stamp(targets, { purge = false } = {}) {
    return this.#withDatabase((m) => m.stamp(Array.isArray(targets) ? targets : [targets], purge));
  }
  current() {
    return this.#withDatabase((m) => m.current());
  }
  rows() {
    return this.#withDatabase((m) => m.rows());
  }
  async heads() {
    return this.#inner.heads();
  }
  async history(range) {
    try {
      return this.#inner.history(range ?? null);
    } catch (e) {
      throw toMigrationError(e);
    }
  }
  /** Offline SQL; reads the version table unless `from` is given. */
  plan(target = "heads", { direction = "upgrade", from } = {}) {
    if (from) return Promise.resolve().then(() => this.#inner.plan(direction, target, from)).catch((e) => Promise.reject(toMigrationError(e)));
    return this.#withDatabase((m) => m.plan(direction, target, null));
  }
  async autogenerate(declaredSchema) {
    try {
      return this.#inner.autogenerate(declaredSchema);
    } catch (e) {
      throw toMigrationError(e);
    }
  }
  /** The app's reads: one statement with `?` parameters; rows as objects. */
  query(sql, params = []) {
    return this.#withDatabase((m) => m.query(sql, params));
  }
  /** The app's writes: statements without parameters; resolves to rows changed. */
  exec(sql) {
    return this.#withDatabase((m) => m.exec(sql));
  }
  /** The files this pool stores (databases and journals). */
  files() {
    return navigator.locks.request(this.#lock, async () => {
      const pool = await acquire(this.#wasm, this.#directory);
      try {
        return pool.files();
      } finally {
        pool.pause();
      }
    });
  }
  close() {
    this.#inner?.free();
    this.#inner = null;
  }
}

/** Opens an OPFS migrator in this dedicated worker; OPFS_UNAVAILABLE elsewhere. */
export function openOpfsMigrator(wasm, set, options) {
  const why = opfsUnavailableReason();
  if (why) throw toMigrationError(wasm.opfsUnavailable(why));
  const { database, versionTable, transactionPerMigration = false, directory = DEFAULT_DIRECTORY, onProgress } = options;
  let inner;
  try {
    inner = new wasm.Migrator(set, { database, versionTable, transactionPerMigration, vfs: "athanor-opfs", deferredOpen: true });
  } catch (e) {
    throw toMigrationError(e);
  }
  return new OpfsMigrator(wasm, inner, { directory, onProgress });
}
