// OPFS databases, inside a dedicated worker (the only place sync access handles exist).
// Every operation runs holding the pool's lease (opfs-lease.js: one Web Lock per pool
// directory, shared by all tabs and workers of the origin). The version table is read
// inside it, so two tabs never apply a migration twice, and a tab that waited finds the
// database upgraded.

import { MigrationError, toMigrationError, call, withoutSafety } from "./errors.js";
import { Migrator } from "./migrator.js";
import { Lease } from "./opfs-lease.js";
import { fingerprint, readHeads, rememberHeads } from "./opfs-heads.js";
import { namesHeads, atHeadsReport, recall } from "./heads.js";

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
 * database open (it stays open until the lease goes to another tab).
 *
 * With `heads` (an `athanor bundle` module names them; or remembered from an earlier
 * parse of the same bytes, opfs-heads.js) the migrations are parsed on first need, as an
 * adapter migrator's: an upgrade to those heads of a database already there reads the
 * version table and nothing else, which keeps a page load at head cheap; until then the
 * app's own SQL and the rows run on a migrator of no revisions (one connection to the
 * database at a time: the parse closes that one). `onParsed(inner)` hears of the parse
 * (a promise: close() waits for it, the worker may end after). */
export class OpfsMigrator {
  #wasm;
  #set;
  #config;
  #heads;
  #onProgress;
  #inner = null;
  #m = null;
  #closed = false;
  #onParsed;
  #remembering = null;
  #bare = null;
  #bareM = null;
  #lease;
  #close = () => {
    this.#inner?.closeDatabase();
    this.#bare?.closeDatabase();
  };

  constructor(wasm, set, config, lease, onProgress, heads, onParsed) {
    this.#wasm = wasm;
    this.#onParsed = onParsed;
    this.#set = set;
    this.#config = config;
    this.#onProgress = onProgress;
    this.#heads = heads ?? null;
    this.#lease = lease;
    lease.closers.add(this.#close);
    // Without heads the migrations are checked now, as the embedded engine does.
    if (!this.#heads) this.#migrator();
  }

  /** A migrator over `set` on this database, and its wasm migrator (not opened yet). */
  #over(set) {
    const inner = call(() => new this.#wasm.Migrator(set, { ...this.#config, deferredOpen: true }));
    return [new Migrator(inner, this.#onProgress), inner];
  }

  /** The parsed migrations' migrator (built once). */
  #migrator() {
    if (!this.#m) {
      const [m, inner] = this.#over(this.#set);
      if (this.#bare) {
        this.#bare.closeDatabase();
        this.#bareM.close();
        this.#bare = this.#bareM = null;
      }
      [this.#m, this.#inner] = [m, inner];
      this.#set = null;
      this.#remembering = this.#onParsed?.(inner) ?? null;
    }
    return this.#m;
  }

  /** The migrator a call runs on, and its wasm migrator: the parsed one; or, for a call
   * that needs no migration (`bare`), the migrator of no revisions until the parse. */
  #target(bare) {
    if (this.#m || !bare) return [this.#migrator(), this.#inner];
    if (!this.#bare) [this.#bareM, this.#bare] = this.#over([]);
    return [this.#bareM, this.#bare];
  }

  #withDatabase(fn, bare = false) {
    if (this.#closed) return Promise.reject(new MigrationError("the migrator is closed", "USAGE"));
    return this.#lease.run(async (pool) => {
      // The pool grows here when this database (or its journal) would not fit.
      await pool.ensureRoom().catch((e) => {
        throw toMigrationError(e);
      });
      const [m, inner] = this.#target(bare);
      call(() => inner.openDatabase());
      return fn(m);
    });
  }

  /** `fn` of the parsed migrations' migrator (parsing them first if need be). */
  #parsed(fn) {
    if (this.#closed) return Promise.reject(new MigrationError("the migrator is closed", "USAGE"));
    return Promise.resolve().then(() => fn(this.#migrator()));
  }

  upgrade(target = "heads", options) {
    if (!this.#closed && !this.#m && namesHeads(this.#heads, target)) {
      return this.#withDatabase((m) => m.rows(), true).then(
        (rows) => atHeadsReport(this.#heads, target, rows) ?? this.#withDatabase((m) => m.upgrade(target, options)),
      );
    }
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
    return this.#withDatabase((m) => m.rows(), true);
  }
  heads() {
    return this.#parsed((m) => m.heads());
  }
  history(range) {
    return this.#parsed((m) => m.history(range));
  }
  /** Offline SQL; reads the version table unless `from` is given. */
  plan(target, options) {
    if (options?.from) return this.#parsed((m) => m.plan(target, options));
    return this.#withDatabase((m) => m.plan(target, options));
  }
  autogenerate(declaredSchema, options) {
    return this.#parsed((m) => m.autogenerate(declaredSchema, options));
  }
  /** The app's reads: one statement with `?` parameters; rows as objects. */
  query(sql, params) {
    return this.#withDatabase((m) => m.query(sql, params), true);
  }
  /** The app's writes (`params`: one statement, `?` bound); resolves to rows changed. */
  exec(sql, params) {
    return this.#withDatabase((m) => m.exec(sql, params), true);
  }
  /** The files this pool stores (databases and journals). */
  files() {
    return this.#lease.run((pool) => pool.files());
  }
  /** Closes the database; the lease stays with the worker until someone asks for it. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await this.#lease.run(() => this.#close()).catch(() => {});
    this.#lease.closers.delete(this.#close);
    this.#m?.close();
    this.#bareM?.close();
    this.#inner = this.#m = this.#set = this.#bare = this.#bareM = null;
    await this.#remembering;
  }
}
// test, lint and adopt reject with USAGE: an OPFS database's wasm has none (test and
// lint: `athanor/safety`).
Object.assign(OpfsMigrator.prototype, withoutSafety);

/** Opens an OPFS migrator in this dedicated worker; OPFS_UNAVAILABLE elsewhere.
 * `remembered`: readHeads(directory) if already asked for (the worker's first line). */
export async function openOpfsMigrator(wasm, set, options, remembered) {
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
  // With the heads of an `athanor bundle` module, or those remembered for these very
  // bytes, nothing is parsed now; a parse is remembered for the next load.
  const lease = Lease.for(wasm, directory);
  lease.take().catch(() => {});
  let { heads } = options;
  let onParsed;
  if (!heads) {
    const [print, known] = await Promise.all([fingerprint(set), remembered ?? readHeads(directory)]);
    if (print) {
      heads = recall(known, print);
      onParsed = (inner) => rememberHeads(directory, print, inner.heads());
    }
  }
  if (!heads) await Promise.race([lease.requested, new Promise((r) => setTimeout(r, 10))]);
  const config = { database, versionTable, transactionPerMigration, vfs: "athanor-opfs" };
  return new OpfsMigrator(wasm, set, config, lease, onProgress, heads, onParsed);
}
