// OPFS databases, inside a dedicated worker (the only place sync access handles exist).
// Every operation runs holding the pool's lease (opfs-lease.js: one Web Lock per pool
// directory, shared by all tabs and workers of the origin). The version table is read
// inside it, so two tabs never apply a migration twice, and a tab that waited finds the
// database upgraded.

import { MigrationError, toMigrationError, call, withoutSafety } from "./errors.js";
import { Migrator } from "./migrator.js";
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

/** The migrator API over an OPFS database, for code already in a dedicated worker: the
 * embedded migrator's API (migrator.js), each call holding the pool's lease with the
 * database open (it stays open until the lease goes to another tab). */
export class OpfsMigrator {
  #inner;
  #m;
  #lease;
  #close = () => this.#inner?.closeDatabase();

  constructor(inner, lease, onProgress) {
    this.#inner = inner;
    this.#m = new Migrator(inner, onProgress);
    this.#lease = lease;
    lease.closers.add(this.#close);
  }

  #withDatabase(fn) {
    if (!this.#inner) return Promise.reject(new MigrationError("the migrator is closed", "USAGE"));
    return this.#lease.run(async (pool) => {
      // The pool grows here when this database (or its journal) would not fit.
      await pool.ensureRoom().catch((e) => {
        throw toMigrationError(e);
      });
      call(() => this.#inner.openDatabase());
      return fn(this.#m);
    });
  }

  upgrade(target, options) {
    return this.#withDatabase((m) => m.upgrade(target, options));
  }
  downgrade(target, options) {
    return this.#withDatabase((m) => m.downgrade(target, options));
  }
  stamp(targets, options) {
    return this.#withDatabase((m) => m.stamp(targets, options));
  }
  current() {
    return this.#withDatabase((m) => m.current());
  }
  rows() {
    return this.#withDatabase((m) => m.rows());
  }
  heads() {
    return this.#m.heads();
  }
  history(range) {
    return this.#m.history(range);
  }
  /** Offline SQL; reads the version table unless `from` is given. */
  plan(target, options) {
    if (options?.from) return Promise.resolve().then(() => this.#m.plan(target, options));
    return this.#withDatabase((m) => m.plan(target, options));
  }
  autogenerate(declaredSchema, options) {
    return Promise.resolve().then(() => this.#m.autogenerate(declaredSchema, options));
  }
  /** The app's reads: one statement with `?` parameters; rows as objects. */
  query(sql, params) {
    return this.#withDatabase((m) => m.query(sql, params));
  }
  /** The app's writes (`params`: one statement, `?` bound); resolves to rows changed. */
  exec(sql, params) {
    return this.#withDatabase((m) => m.exec(sql, params));
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
    this.#m.close();
    this.#inner = null;
  }
}
// test, lint and adopt reject with USAGE: an OPFS database's wasm has none (test and
// lint: `athanor/safety`).
Object.assign(OpfsMigrator.prototype, withoutSafety);

/** Opens an OPFS migrator in this dedicated worker; OPFS_UNAVAILABLE elsewhere. */
export async function openOpfsMigrator(wasm, set, options) {
  const why = opfsUnavailableReason();
  if (why) throw toMigrationError(wasm.opfsUnavailable(why));
  const { database, versionTable, transactionPerMigration = false, directory = DEFAULT_DIRECTORY, onProgress } = options;
  // The lock and the OPFS handles are taken while the migrations parse (they are mostly
  // waiting on the browser), so the first call finds them ready. The parse blocks this
  // thread, so it starts once the lock is granted and the pool's files are asked for,
  // else the grant and the opening would wait for it (5-10 ms at 1,000 revisions). The
  // grant takes a few ms; when another context holds the lock the parse goes ahead
  // after 10. From a page, the worker asked for both at its first line, while the wasm
  // was on its way.
  const lease = Lease.for(wasm, directory);
  lease.take().catch(() => {});
  await Promise.race([lease.requested, new Promise((r) => setTimeout(r, 10))]);
  const inner = call(() => new wasm.Migrator(set, { database, versionTable, transactionPerMigration, vfs: "athanor-opfs", deferredOpen: true }));
  return new OpfsMigrator(inner, lease, onProgress);
}
