// Node (and Deno / Bun through the "node" condition): each wasm is read from disk and
// instantiated synchronously the first time it is needed, so importing needs no
// top-level await and a process compiles only what it uses: the CLI's lean wasm for
// files (node:sqlite) and a host's SQLite, the embedded engine for memory, the full one
// (with autogenerate) on the first autogenerate(). Database files open through node:sqlite
// (node-sqlite.js): SQLite's own locks, shared with every other process on the file.
import * as plannerWasm from "./athanor_cli.js";
import * as embeddedWasm from "./athanor.js";
import * as fullWasm from "./athanor_full.js";
import { createApi, normalizeMigrations, MigrationError } from "./api.js";
import { installVfs } from "./node-vfs.js";
import { resolveMigrations } from "./node-migrations.js";
import { rememberedHeads } from "./node-heads.js";
import { nodeSqlite } from "./adapters.js";
import { builtin, openDatabaseSync } from "./node-sqlite.js";

// Built-ins without the ES-module facades an `import` builds (node-sqlite.js).
const { readFileSync } = builtin("node:fs");

/** `load(glue, file, then)`: a loader instantiating `file` into `glue` once.
 * `load.prepare()` compiles it ahead, off the main thread (a promise): openMigrator
 * starts that before it reads the migrations, so `load()` then only instantiates. */
function loader(glue, file, then) {
  let loaded = false;
  let compiled;
  let compiling;
  const load = () => {
    if (!loaded) {
      glue.initSync({ module: compiled ?? readFileSync(new URL(file, import.meta.url)) });
      then?.(glue);
      loaded = true;
    }
    return glue;
  };
  // A failure here is left to load(), which compiles again and throws it.
  load.prepare = () =>
    loaded ? undefined : (compiling ??= WebAssembly.compile(readFileSync(new URL(file, import.meta.url))).then((m) => void (compiled = m), () => {}));
  return load;
}
// The full wasm has autogenerate and the Node file VFS ("athanor-node"), which the
// embedded one leaves out (browsers never use it): `vfs` migrators run on it.
const full = loader(fullWasm, "./athanor_full_bg.wasm", installVfs);

const wasm = {
  // The CLI's lean wasm plans and runs for node:sqlite and every adapter here: the run
  // without SQLite, as athanor_adapter's, but built for speed ("s": the Worker's
  // adapter wasm is "z", for size), where a first call runs cold code.
  adapter: loader(plannerWasm, "./athanor_cli_bg.wasm"),
  // In-memory databases: the embedded engine with SQLite's FTS5 and R*Tree (the
  // browsers' default wasm leaves them out; the glue is the same).
  embedded: loader(embeddedWasm, "./athanor_ext_bg.wasm"),
  vfs: full,
  autogen: full,
  prepare: (kind) => wasm[kind].prepare(),
};
/** A database file on node:sqlite, waiting `busyTimeout` ms (default 5000) for other
 * connections' locks. Where Node has no node:sqlite: NODE_SQLITE_UNAVAILABLE. */
function openFile(database, { busyTimeout }) {
  if (busyTimeout !== undefined && !(Number.isInteger(busyTimeout) && busyTimeout >= 0 && busyTimeout <= 0xffffffff)) {
    throw new MigrationError(`bad options: busyTimeout must be a whole number of milliseconds, not ${busyTimeout}`, "USAGE");
  }
  let db;
  try {
    db = openDatabaseSync(database, { timeout: busyTimeout ?? 5000 });
  } catch (e) {
    if (e?.code === "NODE_SQLITE_UNAVAILABLE") throw wasm.adapter().nodeSqliteUnavailable(e.message);
    throw new MigrationError(`cannot open database '${database}': ${e?.message ?? e}`, "IO_ERROR");
  }
  return { adapter: nodeSqlite(db), close: () => db.close() };
}

export const { openMigrator } = createApi(wasm, {
  resolveMigrations,
  openFile,
  rememberedHeads: (set) => rememberedHeads(set, wasm.adapter()),
});
export { MigrationError, normalizeMigrations };
/** Node needs no explicit init; kept so code shared with browsers can always call it. */
export async function init() {}
export { d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./adapters.js";
