// The page's side of an OPFS database: the same promise API as an in-memory migrator,
// each call forwarded to the dedicated worker (opfs-worker.js) that owns the database.
import { MigrationError, WORKER_HINT, withoutSafety } from "./errors.js";

export class WorkerMigrator {
  #worker;
  #next = 0;
  #pending = new Map(); // id -> { resolve, reject, onProgress }
  #onProgress;
  /** Set once the worker failed: every later call gets it (a dead worker never answers). */
  #failed = null;

  constructor(worker, onProgress) {
    this.#worker = worker;
    this.#onProgress = onProgress;
    worker.onmessage = ({ data }) => {
      const p = this.#pending.get(data.id);
      if (!p) return;
      if ("progress" in data) {
        try {
          p.onProgress?.(data.progress);
        } catch {
          // A throwing progress callback must not abort the migration.
        }
        return;
      }
      this.#pending.delete(data.id);
      if (data.error) p.reject(new MigrationError(data.error.message, data.error.code, data.error.data));
      else p.resolve(data.ok);
    };
    // A worker that fails to load (a 404, a dev server that rewrote its URL), to
    // instantiate, or that crashes fires this, often before the first call is posted.
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.#failed ??= new MigrationError(`the athanor worker failed: ${event.message || "could not load it"}. ${WORKER_HINT}`, "WORKER_FAILED");
      for (const p of this.#pending.values()) p.reject(this.#failed);
      this.#pending.clear();
    };
  }

  post(op, method, args, onProgress) {
    if (!this.#worker) return Promise.reject(new MigrationError("the migrator is closed", "USAGE"));
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#worker.postMessage({ id, op, method, args, progress: Boolean(onProgress) });
    });
  }

  #call(method, args, options) {
    const onProgress = options?.onProgress ?? this.#onProgress;
    return this.post("call", method, args, method === "upgrade" || method === "downgrade" ? onProgress : undefined);
  }

  upgrade(target = "heads", options) {
    return this.#call("upgrade", [target], options);
  }
  downgrade(target, options) {
    return this.#call("downgrade", [target], options);
  }
  stamp(targets, options) {
    return this.#call("stamp", [targets, options]);
  }
  current() {
    return this.#call("current", []);
  }
  rows() {
    return this.#call("rows", []);
  }
  heads() {
    return this.#call("heads", []);
  }
  history(range) {
    return this.#call("history", [range]);
  }
  /** Offline SQL (a promise here: the version table is read in the worker). */
  plan(target = "heads", options) {
    return this.#call("plan", [target, options]);
  }
  autogenerate(declaredSchema, options) {
    return this.#call("autogenerate", [declaredSchema, options]);
  }
  query(sql, params) {
    return this.#call("query", [sql, params]);
  }
  exec(sql, params) {
    return this.#call("exec", [sql, params]);
  }
  files() {
    return this.#call("files", []);
  }
  /** Closes the database and stops the worker. */
  async close() {
    if (!this.#worker) return;
    await this.post("close").catch(() => {});
    this.#worker.terminate();
    this.#worker = null;
  }
}
// test, lint and adopt reject with USAGE: an OPFS database's wasm has none (test and
// lint: `athanor/safety`).
Object.assign(WorkerMigrator.prototype, withoutSafety);
