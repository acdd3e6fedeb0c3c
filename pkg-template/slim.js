// Bring your own wasm: `await init(bytesOrModuleOrUrl)` before openMigrator().
import initWasm, * as wasm from "./athanor.js";
import { createApi, normalizeMigrations, MigrationError } from "./api.js";

let ready;
export function init(input) {
  ready ??= initWasm({ module_or_path: input });
  return ready;
}
// The embedded wasm has the Planner too: adapters use it, so a bundle ships one wasm.
const api = createApi({ adapter: () => wasm, embedded: () => wasm });
export async function openMigrator(options) {
  if (!ready) throw new MigrationError("call `await init(wasm)` before openMigrator() with athanor/slim", "USAGE");
  await ready;
  return api.openMigrator(options);
}
export { MigrationError, normalizeMigrations };
export { d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./adapters.js";
