// The JS API over the wasm module, shared by every entry (node.js, web.js, workerd.js,
// slim.js). Each entry initialises the wasm its own way, then calls createApi.

/** Every failure is a MigrationError with a stable `code` (see ErrorCode in index.d.ts). */
export class MigrationError extends Error {
  constructor(message, code, data = {}) {
    super(message);
    this.name = "MigrationError";
    this.code = code;
    this.data = data;
    Object.assign(this, data);
  }
}

function toMigrationError(e) {
  if (e instanceof MigrationError) return e;
  if (e && typeof e === "object" && typeof e.code === "string") {
    return new MigrationError(e.message, e.code, e.data ?? {});
  }
  // A trap inside the wasm (a bug) leaves the instance unreliable: say so plainly.
  if (e instanceof WebAssembly.RuntimeError) {
    return new MigrationError(`internal error in the athanor wasm module: ${e.message}`, "INTERNAL_ERROR");
  }
  return e;
}

function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw toMigrationError(e);
  }
}

/** Accepts what bundlers give: `import.meta.glob(..., { query: "?raw" })` values may be
 * module objects `{ default: text }` rather than strings. */
export function normalizeMigrations(migrations) {
  if (migrations == null) throw new MigrationError("`migrations` is required", "USAGE");
  if (Array.isArray(migrations)) return migrations;
  if (typeof migrations === "object") {
    const out = {};
    for (const [path, value] of Object.entries(migrations)) {
      out[path] = typeof value === "string" ? value : value?.default;
      if (typeof out[path] !== "string") {
        throw new MigrationError(`migration ${path} is not text (use { query: "?raw", import: "default" })`, "USAGE");
      }
    }
    return out;
  }
  throw new MigrationError("`migrations` must be an array, an object of path -> text, or (in Node) a directory", "USAGE");
}

class Migrator {
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
   * build; `null` when they agree, else the changes and the SQL autogenerate writes. */
  autogenerate(declaredSchema) {
    return call(() => this.#inner.autogenerate(declaredSchema));
  }

  /** Closes the database. */
  close() {
    this.#inner?.free();
    this.#inner = null;
  }
}

/** File texts cross into the wasm as two NUL-joined strings (cheaper than one string
 * per file); anything else (revision objects, a NUL in a text) goes as it is. */
function joined(set) {
  const entries = Array.isArray(set)
    ? set.map((e, i) => (typeof e === "string" ? [`${String(i).padStart(6, "0")}.sql`, e] : [e?.name, e?.text]))
    : Object.entries(set);
  if (entries.length === 0 || !entries.every(([n, t]) => typeof n === "string" && typeof t === "string" && !n.includes("\0") && !t.includes("\0"))) {
    return set;
  }
  return { joinedNames: entries.map(([n]) => n).join("\0"), joinedTexts: entries.map(([, t]) => t).join("\0") };
}

/** Builds the public API over an initialised wasm-bindgen module. */
export function createApi(wasm, { resolveMigrations = normalizeMigrations } = {}) {
  async function openMigrator(options = {}) {
    const { migrations, database = ":memory:", versionTable, transactionPerMigration = false, busyTimeout, vfs, onProgress } = options;
    const set = joined(await resolveMigrations(migrations));
    const inner = call(() => new wasm.Migrator(set, { database, versionTable, transactionPerMigration, busyTimeout, vfs }));
    return new Migrator(inner, onProgress);
  }
  return { openMigrator, MigrationError };
}
