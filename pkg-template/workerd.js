// Cloudflare Workers: the .wasm is imported as a compiled WebAssembly.Module (no
// compiling of fetched bytes at run time) and instantiated synchronously.
import wasmModule from "./athanor_bg.wasm";
import * as wasm from "./athanor.js";
import { createApi, normalizeMigrations, MigrationError } from "./api.js";

wasm.initSync({ module: wasmModule });

export const { openMigrator } = createApi(wasm);
export { MigrationError, normalizeMigrations };
export async function init() {}
export { d1, durableObject, sqliteWasm, betterSqlite3, nodeSqlite } from "./adapters.js";
