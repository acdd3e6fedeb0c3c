// OPFS databases, inside a dedicated worker (the only place sync access handles exist).
// Every operation runs holding the pool's lease (opfs-lease.js: one Web Lock per pool
// directory, shared by all tabs and workers of the origin). The version table is read
// inside it, so two tabs never apply a migration twice, and a tab that waited finds the
// database upgraded.

import { MigrationError, toMigrationError } from "./errors.js";
import { Lease } from "./opfs-lease.js";

export const DEFAULT_DIRECTORY = ".athanor";

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

/** The migrator API over an OPFS database, for code already in a dedicated worker. */
export class OpfsMigrator {
  #inner;
  #lease;
  #close = () => this.#inner?.closeDatabase();
  #onProgress;

  constructor(inner, lease, onProgress) {
    this.#inner = inner;
    this.#lease = lease;
    this.#onProgress = onProgress;
    lease.closers.add(this.#close);
  }

  /** Runs `fn(inner)` holding the lease, with the database open (it stays open until
   * the lease goes to another tab). */
  async #withDatabase(fn) {
    if (!this.#inner) throw new MigrationError("the migrator is closed", "USAGE");
    return this.#lease.run(() => {
      try {
        this.#inner.openDatabase();
        return fn(this.#inner);
      } catch (e) {
        throw toMigrationError(e);
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
  async autogenerate(declaredSchema, { rename = {} } = {}) {
    try {
      return this.#inner.autogenerate(declaredSchema, Object.entries(rename).map(([from, to]) => `${from}=${to}`));
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
    return this.#lease.run((pool) => pool.files());
  }
  /** Closes the database; the lease stays with the worker until someone asks for it. */
  async close() {
    if (!this.#inner) return;
    await this.#lease.run(() => this.#close()).catch(() => {});
    this.#lease.closers.delete(this.#close);
    this.#inner.free();
    this.#inner = null;
  }
}

/** Opens an OPFS migrator in this dedicated worker; OPFS_UNAVAILABLE elsewhere. */
export function openOpfsMigrator(wasm, set, options) {
  const why = opfsUnavailableReason();
  if (why) throw toMigrationError(wasm.opfsUnavailable(why));
  const { database, versionTable, transactionPerMigration = false, directory = DEFAULT_DIRECTORY, onProgress } = options;
  // The lock and the OPFS handles are taken while the migrations parse (they are mostly
  // waiting on the browser), so the first call finds them ready.
  const lease = Lease.for(wasm, directory);
  lease.take().catch(() => {});
  let inner;
  try {
    inner = new wasm.Migrator(set, { database, versionTable, transactionPerMigration, vfs: "athanor-opfs", deferredOpen: true });
  } catch (e) {
    throw toMigrationError(e);
  }
  return new OpfsMigrator(inner, lease, onProgress);
}
