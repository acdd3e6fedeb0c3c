// The JS API over the wasm modules, shared by every entry (node.js, web.js, workerd.js,
// slim.js, and athanor/safety's safety-*.js). Each entry initialises the wasm its own way, then calls createApi with what
// it has: the package builds three wasms (wasm-pack.toml), the small one for host
// adapters, the embedded SQLite engine, and the full one with autogenerate and the CLI.

import { MigrationError, toMigrationError, call } from "./errors.js";
import { Migrator } from "./migrator.js";
import { readRowsWith, runOnAdapter } from "./runner.js";
import { withSafety, runTest, runLint } from "./safety.js";
import { bundleHeads, namesHeads, atHeadsReport, rowsSql } from "./heads.js";

export { MigrationError };

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

/** The migrations as given (not copied) once they have a shape the API takes; `joined`
 * reads them, and sends what it cannot read through normalizeMigrations for its error. */
export function acceptMigrations(migrations) {
  return migrations !== null && typeof migrations === "object" ? migrations : normalizeMigrations(migrations);
}

const utf8 = new TextEncoder();

/** A set an entry has already joined (node.js joins a directory's bytes as read): `{
 * [JOINED]: { joinedNames, joinedTexts } }`. */
export const JOINED = Symbol("athanor.joined");

/** File names and texts cross into the wasm NUL-joined, as UTF-8 bytes (cheaper than
 * one string per file, and than wasm-bindgen's string passing, a JS loop over every
 * character; a NUL inside a name or text is refused there). Revision objects, and
 * anything unexpected, go as they are (the wasm says what is wrong). One pass, no
 * copies: this runs on every page load. */
export function joined(set) {
  if (set?.[JOINED]) return set[JOINED];
  const names = [];
  const texts = [];
  if (Array.isArray(set)) {
    for (let i = 0; i < set.length; i++) {
      const e = set[i];
      if (typeof e === "string") {
        names.push(`${String(i).padStart(6, "0")}.sql`);
        texts.push(e);
      } else if (typeof e?.name === "string" && typeof e?.text === "string") {
        names.push(e.name);
        texts.push(e.text);
      } else {
        return set;
      }
    }
  } else {
    for (const name in set) {
      const value = set[name];
      const text = typeof value === "string" ? value : value?.default;
      if (typeof text !== "string") return normalizeMigrations(set);
      names.push(name);
      texts.push(text);
    }
  }
  return names.length ? { joinedNames: utf8.encode(names.join("\0")), joinedTexts: utf8.encode(texts.join("\0")) } : set;
}

/** A migrator over a host's SQLite (D1, a Durable Object, sqlite-wasm...): the wasm
 * plans, the adapter executes step by step. The migrations are parsed on first need:
 * with heads known without a parse (a bundle's, `athanor bundle`, or remembered for the
 * same bytes, heads.js), an upgrade to the heads of a database already there reads the
 * version table and nothing else, which keeps a Worker's check on every cold start
 * cheap. `onParsed(heads)` hears the heads the parse found. */
class AdapterMigrator {
  #wasm;
  #set;
  #versionTable;
  #heads;
  #planner = null;
  #adapter;
  #onProgress;
  #perMigration;
  #close;
  #syncPlan;
  #autogenerate;
  #onParsed;

  /** `close`: closes a connection athanor opened itself (a Node database file);
   * `autogenerate(declared, renames)`: from the full wasm, where the entry has it. */
  constructor(wasm, set, adapter, { versionTable, heads, onProgress, transactionPerMigration = false, close, autogenerate, onParsed } = {}) {
    this.#wasm = wasm;
    this.#onParsed = onParsed;
    this.#close = close;
    this.#syncPlan = Boolean(close);
    this.#autogenerate = autogenerate;
    this.#set = set;
    this.#versionTable = versionTable ?? null;
    this.#heads = heads ?? null;
    this.#adapter = adapter;
    this.#onProgress = onProgress;
    this.#perMigration = transactionPerMigration;
  }

  get #plan() {
    if (!this.#set) throw new MigrationError("the migrator is closed", "USAGE");
    if (!this.#planner) {
      this.#planner = call(() => new this.#wasm.Planner(this.#set(), this.#versionTable));
      this.#onParsed?.(this.#planner.heads());
    }
    return this.#planner;
  }

  #readRows() {
    if (!this.#set) throw new MigrationError("the migrator is closed", "USAGE");
    return readRowsWith(rowsSql(this.#wasm, this.#versionTable), this.#adapter);
  }

  async #run(direction, target, options) {
    const onProgress = options?.onProgress ?? this.#onProgress;
    try {
      if (!this.#set) throw new MigrationError("the migrator is closed", "USAGE");
      if (direction === "upgrade" && !this.#planner && namesHeads(this.#heads, target)) {
        const answered = atHeadsReport(this.#heads, target, await this.#readRows());
        if (answered) return answered;
      }
      return await runOnAdapter(this.#plan, this.#adapter, direction, [target], { onProgress, perMigration: this.#perMigration });
    } catch (e) {
      throw toMigrationError(e);
    }
  }

  async upgrade(target = "heads", options) {
    return this.#run("upgrade", target, options);
  }

  async downgrade(target, options) {
    return this.#run("downgrade", target, options);
  }

  /** Sets the version table without running migrations; `purge` also forgets every
   * recorded checksum (how an edited migration is accepted). */
  async stamp(targets, { purge = false } = {}) {
    return runOnAdapter(this.#plan, this.#adapter, "stamp", Array.isArray(targets) ? targets : [targets], { purge, perMigration: this.#perMigration });
  }

  async rows() {
    return this.#readRows().catch((e) => {
      throw toMigrationError(e);
    });
  }

  async heads() {
    return call(() => this.#plan.heads());
  }

  /** The current revision(s), as `athanor current` shows them. */
  async current() {
    const rows = await this.rows();
    return call(() => this.#plan.current(rows));
  }

  /** Revisions, newest first; `range` as `athanor history -r`. */
  async history(range) {
    return call(() => this.#plan.history(range ?? null));
  }

  /** Offline mode: the SQL of an upgrade/downgrade as text, from the host's version
   * table (or `from`); touches nothing. */
  plan(target = "heads", { direction = "upgrade", from } = {}) {
    // A database file athanor opened answers synchronously, as the embedded engine's
    // Migrator (whose API it keeps).
    if (this.#syncPlan) return call(() => this.#plan.offlineSql(direction, target, from ?? this.#plan.rowsOn(this.#adapter.connection)));
    return (async () => {
      const rows = from ?? (await this.rows());
      return call(() => this.#plan.offlineSql(direction, target, rows));
    })();
  }

  /** Statements of `sql` split by SQLite's rules (for hosts that take one at a time). */
  split(sql) {
    return call(() => this.#plan.split(sql));
  }

  /** The app's SQL on the adapter's connection (node:sqlite, better-sqlite3): the
   * embedded engine's `query`/`exec`. Hosts without it say so. */
  get #app() {
    if (!this.#set) throw new MigrationError("the migrator is closed", "USAGE");
    if (!this.#adapter.app) throw new MigrationError(`query and exec run on the embedded engine, node:sqlite and better-sqlite3; with ${this.#adapter.name}, use its own connection`, "USAGE");
    return this.#adapter.app;
  }

  /** The app's reads: one statement with `?` parameters; rows as objects. */
  async query(sql, params = []) {
    return this.#app.query(sql, params, (s) => this.split(s));
  }

  /** The app's writes; resolves to rows changed. With `params`, one statement. */
  async exec(sql, params) {
    return this.#app.exec(sql, params, (s) => this.split(s));
  }

  /** As the embedded migrator's: the declared schema against the migrations' heads. */
  autogenerate(declaredSchema, { rename = {} } = {}) {
    if (!this.#set) throw new MigrationError("the migrator is closed", "USAGE");
    if (!this.#autogenerate) throw new MigrationError("autogenerate runs in Node and the CLI (`athanor revision --autogenerate`)", "USAGE");
    return call(() => this.#autogenerate(declaredSchema, Object.entries(rename).map(([from, to]) => `${from}=${to}`)));
  }

  close() {
    this.#planner?.free();
    this.#planner = null;
    this.#set = null;
    const close = this.#close;
    this.#close = null;
    close?.();
  }
}

/** A database that lives in memory (the embedded engine's), not in a file. */
const inMemory = (database) => database === "" || database === ":memory:" || String(database).includes("mode=memory");

/** Builds the public API. `wasm`: functions returning an initialised wasm-bindgen
 * module (called when first needed, so an entry may load each lazily): `adapter` plans
 * for host adapters, `embedded` runs the embedded SQLite (absent in an entry without
 * it), `vfs` runs it where `vfs` names a VFS only that wasm has (Node's file VFS, in the
 * full wasm), `autogen` has `autogenerate` (absent where that wasm is not shipped); and
 * optionally `prepare(kind)`, a promise of that wasm ("adapter", "embedded", "vfs")
 * compiled ahead.
 * `openFile(database, { busyTimeout })`: where the entry opens database files itself
 * (Node: node:sqlite), `{ adapter, close }`; files then never reach the embedded engine
 * unless `vfs` names a VFS for it. `rememberedHeads(set)`: where the entry remembers
 * the heads of what it parsed (Node: node-heads.js), `{ heads, remember(heads) }`. */
export function createApi(wasm, { resolveMigrations = acceptMigrations, openFile, rememberedHeads } = {}) {
  /** The options of an adapter migrator for `resolved`: the heads known without a parse
   * (a bundle's, else those remembered for these bytes), and who hears of a parse. */
  const known = (resolved, set) => {
    const heads = bundleHeads(resolved);
    if (heads) return { heads };
    const memo = rememberedHeads?.(set());
    return { heads: memo?.heads ?? null, onParsed: memo ? (found) => memo.remember(found) : undefined };
  };
  const autogenerateOf = (set, versionTable) => wasm.autogen && ((declared, renames) => wasm.autogen().autogenerate(set(), versionTable ?? null, declared, renames));
  /** A migrator over `adapter`; `close` closes a connection athanor opened. Its own
   * function: a Worker's first request compiles this branch of openMigrator only. */
  async function onAdapter(adapter, resolved, set, { versionTable, onProgress, transactionPerMigration = false }, close) {
    // With heads known without a parse, nothing is parsed (nor joined) at head.
    const { heads, onParsed } = known(resolved, set);
    const m = new AdapterMigrator(wasm.adapter(), set, adapter, {
      versionTable, heads, onParsed, onProgress, transactionPerMigration, close, autogenerate: close && autogenerateOf(set, versionTable),
    });
    try {
      // Without the heads, the migrations are checked now, as the embedded engine does.
      if (!heads) await m.heads();
    } catch (e) {
      m.close();
      throw e;
    }
    return withSafety(m, wasm.autogen, set, versionTable, { adapter, planner: () => wasm.adapter().Planner });
  }
  async function openMigrator(options = {}) {
    const { migrations, database = ":memory:", versionTable, transactionPerMigration = false, busyTimeout, vfs, onProgress, adapter } = options;
    const onFile = !adapter && openFile && !vfs && !inMemory(database);
    // An entry that can compile its wasm ahead (Node) does it while the migrations are read.
    const compiling = wasm.prepare?.(adapter || onFile ? "adapter" : vfs && wasm.vfs ? "vfs" : "embedded");
    const resolved = await resolveMigrations(migrations);
    await compiling;
    let joinedSet;
    const set = () => (joinedSet ??= joined(resolved));
    if (adapter) return onAdapter(adapter, resolved, set, options);
    if (onFile) {
      if (typeof database !== "string") throw new MigrationError("`database` must be a file path or \":memory:\"", "USAGE");
      const file = call(() => openFile(database, { busyTimeout }));
      return onAdapter(file.adapter, resolved, set, options, file.close);
    }
    if (!wasm.embedded) throw new MigrationError("this entry has no embedded SQLite: pass an adapter (d1, durableObject...)", "USAGE");
    const embedded = vfs && wasm.vfs ? wasm.vfs() : wasm.embedded();
    const inner = call(() => new embedded.Migrator(set(), { database, versionTable, transactionPerMigration, busyTimeout, vfs }));
    return withSafety(new Migrator(inner, onProgress, autogenerateOf(set, versionTable)), wasm.autogen, set, versionTable);
  }
  return { openMigrator, MigrationError };
}

/** The `athanor/safety` entry's functions (`athanor test` and `lint` on the migrations
 * alone), shared by its loaders (safety-node.js, safety-web.js, safety-workerd.js), as
 * migrator.test() and lint() call the wasm. `full()`: the initialised full wasm (or a
 * promise of it); `resolveMigrations`: as createApi's (Node: a directory path too). */
export function safetyApi(full, resolveMigrations = acceptMigrations) {
  const prepare = async (migrations) => {
    const set = joined(await resolveMigrations(migrations));
    return [await full(), set];
  };
  return {
    async testMigrations(migrations, { seed = false, versionTable } = {}) {
      const [wasm, set] = await prepare(migrations);
      return runTest(wasm, set, { seed, versionTable });
    },
    async lintMigrations(migrations, { range, rows } = {}) {
      const [wasm, set] = await prepare(migrations);
      return runLint(wasm, set, { range, rows });
    },
  };
}
