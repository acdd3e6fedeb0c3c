// Browsers and bundlers: the wasm is fetched next to this file (bundlers rewrite the
// URL) on the first openMigrator(), or earlier with an explicit `await init()`.
import initWasm, * as wasm from "./athanor.js";
import { createApi, normalizeMigrations, MigrationError } from "./api.js";

let ready;
/** Loads the wasm once; `input` may be a URL, a Response, bytes or a WebAssembly.Module. */
export function init(input) {
  ready ??= initWasm({ module_or_path: input ?? new URL("./athanor_bg.wasm", import.meta.url) });
  return ready;
}

const api = createApi(wasm);
export async function openMigrator(options) {
  await init();
  return api.openMigrator(options);
}
export { MigrationError, normalizeMigrations };
export { d1, durableObject, sqliteWasm, betterSqlite3, nodeSqlite } from "./adapters.js";
