// Cloudflare Workers: the .wasm is imported as a compiled WebAssembly.Module (no
// compiling of fetched bytes at run time) and instantiated synchronously. Only the
// small adapter wasm (no SQLite: D1 and Durable Objects bring their own) is bundled.
import wasmModule from "./athanor_adapter_bg.wasm";
import * as wasm from "./athanor_adapter.js";
import { createApi, normalizeMigrations, MigrationError } from "./api.js";

wasm.initSync({ module: wasmModule });

export const { openMigrator } = createApi({ adapter: () => wasm });
export { MigrationError, normalizeMigrations };
export async function init() {}
export { d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./adapters.js";
