// Node (and Deno / Bun through the "node" condition): each wasm is read from disk and
// instantiated synchronously the first time it is needed, so importing needs no
// top-level await and a process compiles only what it uses: the small adapter wasm for
// a host's SQLite, the embedded engine for files and memory, the full one (with
// autogenerate) on the first autogenerate(). Database files open through node:sqlite
// (node-sqlite.js): SQLite's own locks, shared with every other process on the file.
import * as adapterWasm from "./athanor_adapter.js";
import * as embeddedWasm from "./athanor.js";
import * as fullWasm from "./athanor_full.js";
import { createApi, acceptMigrations, normalizeMigrations, MigrationError, JOINED } from "./api.js";
import { installVfs } from "./node-vfs.js";
import { readListed } from "./node-host.js";
import { nodeSqlite } from "./adapters.js";
import { builtin, openDatabaseSync } from "./node-sqlite.js";

// Built-ins without the ES-module facades an `import` builds (node-sqlite.js).
const { readFileSync, readdirSync, statSync } = builtin("node:fs");
const { join } = builtin("node:path");
const { Buffer, isUtf8 } = builtin("node:buffer");

/** `load(glue, file, then)`: a loader instantiating `file` into `glue` once. */
function loader(glue, file, then) {
  let loaded = false;
  return () => {
    if (!loaded) {
      glue.initSync({ module: readFileSync(new URL(file, import.meta.url)) });
      then?.(glue);
      loaded = true;
    }
    return glue;
  };
}
const embedded = loader(embeddedWasm, "./athanor_bg.wasm", installVfs);

/** A directory path reads its `*.sql` files; anything else is taken as data. The
 * files' bytes are joined as they are read (api.js `joined`), with no decoding to text
 * and encoding back, unless one is not UTF-8 (then as text, invalid bytes replaced). */
function resolveMigrations(migrations) {
  if (typeof migrations === "string") {
    let entries;
    try {
      if (!statSync(migrations).isDirectory()) throw new Error("not a directory");
      entries = readdirSync(migrations, { withFileTypes: true }).filter((e) => e.name.endsWith(".sql"));
    } catch (e) {
      throw new MigrationError(`cannot read migrations directory '${migrations}': ${e.message}`, "IO_ERROR");
    }
    // join(dir, name) for every name (none has a separator): the normalized prefix once.
    const prefix = join(migrations, "x").slice(0, -1);
    const names = [];
    const files = [];
    let utf8 = true;
    for (const e of entries) {
      // Regular files and symlinks to them only: a FIFO would block forever.
      let bytes;
      try {
        bytes = readListed(e, prefix + e.name);
      } catch (err) {
        throw new MigrationError(err.message, "IO_ERROR");
      }
      if (bytes === null) throw new MigrationError(`cannot read '${prefix + e.name}': it is gone (removed while being read), not a regular file`, "IO_ERROR");
      names.push(e.name);
      files.push(bytes);
      utf8 &&= isUtf8(bytes);
    }
    if (!utf8) return names.map((name, i) => ({ name, text: files[i].toString("utf8") }));
    if (!names.length) return [];
    const parts = [];
    for (const f of files) parts.push(f, NUL);
    parts.pop();
    return { [JOINED]: { joinedNames: names.join("\0"), joinedTexts: Buffer.concat(parts) } };
  }
  return acceptMigrations(migrations);
}
const NUL = new Uint8Array(1);

const wasm = {
  adapter: loader(adapterWasm, "./athanor_adapter_bg.wasm"),
  embedded,
  // Autogenerate's scratch databases are in memory: the full wasm needs no file VFS.
  autogen: loader(fullWasm, "./athanor_full_bg.wasm"),
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

export const { openMigrator } = createApi(wasm, { resolveMigrations, openFile });
export { MigrationError, normalizeMigrations };
/** Node needs no explicit init; kept so code shared with browsers can always call it. */
export async function init() {}
export { d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./adapters.js";
