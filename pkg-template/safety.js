// `migrator.test()`, `migrator.lint()` and `migrator.adopt()`: `athanor test`, `lint` and
// `adopt` for the JS API, in the full wasm (loaded on their first call, as
// autogenerate's). test and lint run on scratch databases, never the migrator's (lint
// only reads its version table when no range is given); adopt reads its schema and
// stamps it.
import { call, MigrationError, safetyUnavailable } from "./errors.js";
import { runOnAdapter } from "./runner.js";

/** 12 random hex digits, as the CLI's revision ids. */
const randomId = () => Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");

const checkRange = (range) => {
  if (range != null && typeof range !== "string") throw new MigrationError("lint's range must be a string such as \"base:heads\"", "USAGE");
};

/** `athanor test` in the full wasm `wasm` over migrations `set` (joined): the report. */
export function runTest(wasm, set, { seed = false, versionTable } = {}) {
  return call(() => wasm.testMigrations(set, versionTable ?? null, Boolean(seed)));
}

/** `athanor lint` in the full wasm `wasm` over migrations `set` (joined): `range` as
 * `history -r`; without one, what an upgrade from `rows` (the version table's
 * revisions) would apply, or without rows the heads. */
export function runLint(wasm, set, { range, rows } = {}) {
  checkRange(range);
  if (rows != null && !(Array.isArray(rows) && rows.every((r) => typeof r === "string"))) {
    throw new MigrationError("lint's rows must be an array of revision ids (the version table's rows)", "USAGE");
  }
  return call(() => wasm.lintMigrations(set, range ?? null, rows ?? null));
}

/** Adds `test`, `lint` and `adopt` to migrator `m` of migrations `set()`; `full()` loads
 * the full wasm (absent where it is not shipped: browsers, workerd). `host`: the
 * migrator's adapter and the adapter wasm's loader, where it has one (adopt needs a
 * synchronous connection: a file in Node, better-sqlite3, node:sqlite...). */
export function withSafety(m, full, set, versionTable, host = {}) {
  const need = (what) => {
    if (!full) throw safetyUnavailable(what);
    return full();
  };
  /** Every revision's upgrade, downgrade and upgrade again, then down to base and up to
   * the heads; `seed`: rows in every table before each step. Resolves to the report
   * (`passed`, and the first `failure` with its ROUND_TRIP_FAILED `error`). */
  m.test = async ({ seed = false } = {}) => {
    return runTest(need("test"), set(), { seed, versionTable });
  };
  /** Each migration of `range` (as `history -r`; default: what the database has not
   * applied) classed: destructive, data-dependent, backward-incompatible,
   * non-transactional. Resolves to `{ revisions, findings, ignored }`. */
  m.lint = async (range) => {
    const wasm = need("lint");
    checkRange(range);
    const rows = range == null || range.split(":").some((side) => side.trim() === "current") ? await m.rows() : null;
    return runLint(wasm, set(), { range, rows });
  };
  /** A base revision that creates exactly the database's schema (its own CREATE
   * statements), with a downgrade that drops it; the database is stamped at it. For a
   * database made without migrations, opened with no migrations. Resolves to
   * `{ revision, fileName, text, schema }`: write `text` to `migrations/<fileName>` (and
   * `schema` to schema.sql to go on with autogenerate). */
  m.adopt = async ({ message, revision } = {}) => {
    const wasm = need("adopt");
    const { adapter, planner } = host;
    if (!adapter?.connection) {
      throw new MigrationError("adopt needs a database file (Node) or a synchronous adapter's connection (betterSqlite3, nodeSqlite, sqliteWasm); for D1 or libSQL, adopt a local copy with the CLI", "USAGE");
    }
    if ((await m.heads()).length) throw new MigrationError("adopt writes the first revision: open the migrator with no migrations", "USAGE");
    const adopted = call(() => wasm.adoptRevision(adapter.connection, versionTable ?? null, message ?? null, revision ?? randomId(), Date.now()));
    // The stamp is a run of the core's, over a map that holds just the new revision.
    const stamp = call(() => new (planner())([{ name: adopted.fileName, text: adopted.text }], versionTable ?? null));
    try {
      await runOnAdapter(stamp, adapter, "stamp", [adopted.revision]);
    } finally {
      stamp.free();
    }
    return adopted;
  };
  return m;
}
