// Node (and Deno / Bun through the "node" condition): the wasm is read from disk and
// instantiated synchronously, so importing needs no top-level await.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as wasm from "./athanor.js";
import { createApi, acceptMigrations, normalizeMigrations, MigrationError } from "./api.js";
import { installVfs } from "./node-vfs.js";
import { readRegular } from "./node-host.js";

wasm.initSync({ module: readFileSync(new URL("./athanor_bg.wasm", import.meta.url)) });
installVfs(wasm);

/** A directory path reads its `*.sql` files; anything else is taken as data. */
function resolveMigrations(migrations) {
  if (typeof migrations === "string") {
    let names;
    try {
      if (!statSync(migrations).isDirectory()) throw new Error("not a directory");
      names = readdirSync(migrations).filter((n) => n.endsWith(".sql"));
    } catch (e) {
      throw new MigrationError(`cannot read migrations directory '${migrations}': ${e.message}`, "IO_ERROR");
    }
    return names.map((name) => {
      // Regular files and symlinks to them only: a FIFO would block forever.
      let bytes;
      try {
        bytes = readRegular(join(migrations, name));
      } catch (e) {
        throw new MigrationError(e.message, "IO_ERROR");
      }
      if (bytes === null) throw new MigrationError(`cannot read '${join(migrations, name)}': it is gone (removed while being read), not a regular file`, "IO_ERROR");
      return { name, text: bytes.toString("utf8") };
    });
  }
  return acceptMigrations(migrations);
}

export const { openMigrator } = createApi(wasm, { resolveMigrations });
export { MigrationError, normalizeMigrations };
/** Node needs no explicit init; kept so code shared with browsers can always call it. */
export async function init() {}
export { d1, durableObject, sqliteWasm, betterSqlite3, nodeSqlite } from "./adapters.js";
