// The promise API over the wasm's Migrator (the embedded SQLite): used as it is for
// memory and Node files, and by opfs.js under the OPFS lease.
import { call, MigrationError } from "./errors.js";

export class Migrator {
  #inner;
  #onProgress;
  #autogenerate;

  /** `autogenerate(declared, renames)`: from the full wasm, which Node loads on the first
   * call; browsers ship without it (the embedded wasm leaves autogenerate out). */
  constructor(inner, onProgress, autogenerate) {
    this.#inner = inner;
    this.#onProgress = onProgress;
    this.#autogenerate = autogenerate;
  }

  /** The wasm migrator; after close() a coded error, not a TypeError on null. */
  get #live() {
    if (!this.#inner) throw new MigrationError("the migrator is closed", "USAGE");
    return this.#inner;
  }

  #progress(options) {
    return options?.onProgress ?? this.#onProgress ?? null;
  }

  /** Applies migrations up to `target` (default "heads"). Resolves to the report. */
  async upgrade(target = "heads", options) {
    return call(() => this.#live.upgrade(target, this.#progress(options)));
  }

  /** Reverts migrations down to `target` ("-1", "base", a revision...). */
  async downgrade(target, options) {
    return call(() => this.#live.downgrade(target, this.#progress(options)));
  }

  /** Sets the version table without running migrations. */
  async stamp(targets, { purge = false } = {}) {
    return call(() => this.#live.stamp(Array.isArray(targets) ? targets : [targets], purge));
  }

  /** The current revision(s), as `athanor current` shows them. */
  async current() {
    return call(() => this.#live.current());
  }

  /** The version table's rows. */
  async rows() {
    return call(() => this.#live.rows());
  }

  /** The migrations' heads. */
  async heads() {
    return call(() => this.#live.heads());
  }

  /** Revisions, newest first; `range` as `athanor history -r` ("a:b", "-3:", ...). */
  async history(range) {
    return call(() => this.#live.history(range ?? null));
  }

  /** Offline mode: the SQL of an upgrade/downgrade as text; touches nothing. */
  plan(target = "heads", { direction = "upgrade", from } = {}) {
    return call(() => this.#live.plan(direction, target, from ?? null));
  }

  /** Compares a declared schema (CREATE statements) with the schema the migrations
   * build; `null` when they agree, else the changes and the SQL autogenerate writes.
   * `rename`: `{ old_table: "new_table", "table.old_column": "new_column" }`, written as
   * ALTER TABLE ... RENAME instead of a drop and an add (the CLI's `--rename`). */
  autogenerate(declaredSchema, { rename = {} } = {}) {
    // A closed migrator says so first, as every call does.
    if (this.#live && !this.#autogenerate) {
      throw new MigrationError("autogenerate runs in Node and the CLI (`athanor revision --autogenerate`): the browser's wasm leaves it out", "USAGE");
    }
    return call(() => this.#autogenerate(declaredSchema, Object.entries(rename).map(([from, to]) => `${from}=${to}`)));
  }

  /** The app's reads: one statement with `?` parameters; rows as objects. */
  async query(sql, params = []) {
    return call(() => this.#live.query(sql, params));
  }

  /** The app's writes; resolves to rows changed. With `params`, one statement with
   * `?` bound as `query` binds them; without, any number of statements. */
  async exec(sql, params) {
    return call(() => this.#live.exec(sql, params));
  }

  /** Closes the database. */
  close() {
    this.#inner?.free();
    this.#inner = null;
  }
}
