// The promise API over the wasm's Migrator (the embedded SQLite): used as it is for
// memory and Node files, and by opfs.js under the OPFS lease.
import { call } from "./errors.js";

export class Migrator {
  #inner;
  #onProgress;

  constructor(inner, onProgress) {
    this.#inner = inner;
    this.#onProgress = onProgress;
  }

  #progress(options) {
    return options?.onProgress ?? this.#onProgress ?? null;
  }

  /** Applies migrations up to `target` (default "heads"). Resolves to the report. */
  async upgrade(target = "heads", options) {
    return call(() => this.#inner.upgrade(target, this.#progress(options)));
  }

  /** Reverts migrations down to `target` ("-1", "base", a revision...). */
  async downgrade(target, options) {
    return call(() => this.#inner.downgrade(target, this.#progress(options)));
  }

  /** Sets the version table without running migrations. */
  async stamp(targets, { purge = false } = {}) {
    return call(() => this.#inner.stamp(Array.isArray(targets) ? targets : [targets], purge));
  }

  /** The current revision(s), as `athanor current` shows them. */
  async current() {
    return call(() => this.#inner.current());
  }

  /** The version table's rows. */
  async rows() {
    return call(() => this.#inner.rows());
  }

  /** The migrations' heads. */
  async heads() {
    return call(() => this.#inner.heads());
  }

  /** Revisions, newest first; `range` as `athanor history -r` ("a:b", "-3:", ...). */
  async history(range) {
    return call(() => this.#inner.history(range ?? null));
  }

  /** Offline mode: the SQL of an upgrade/downgrade as text; touches nothing. */
  plan(target = "heads", { direction = "upgrade", from } = {}) {
    return call(() => this.#inner.plan(direction, target, from ?? null));
  }

  /** Compares a declared schema (CREATE statements) with the schema the migrations
   * build; `null` when they agree, else the changes and the SQL autogenerate writes.
   * `rename`: `{ old_table: "new_table", "table.old_column": "new_column" }`, written as
   * ALTER TABLE ... RENAME instead of a drop and an add (the CLI's `--rename`). */
  autogenerate(declaredSchema, { rename = {} } = {}) {
    return call(() => this.#inner.autogenerate(declaredSchema, Object.entries(rename).map(([from, to]) => `${from}=${to}`)));
  }

  /** The app's reads: one statement with `?` parameters; rows as objects. */
  async query(sql, params = []) {
    return call(() => this.#inner.query(sql, params));
  }

  /** The app's writes: statements without parameters; resolves to rows changed. */
  async exec(sql) {
    return call(() => this.#inner.exec(sql));
  }

  /** Closes the database. */
  close() {
    this.#inner?.free();
    this.#inner = null;
  }
}
