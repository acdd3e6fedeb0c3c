// Bring your own wasm: `await init(bytesOrModuleOrUrl)` (athanor_bg.wasm, or
// athanor_ext_bg.wasm for SQLite with FTS5 and R*Tree) before openMigrator(), and `await
// initAdapter(...)` (athanor_adapter_bg.wasm) before an adapter's: the embedded wasm has
// no Planner (it keeps the browser package small).
import initWasm, * as wasm from "./athanor.js";
import initAdapterWasm, * as adapterWasm from "./athanor_adapter.js";
import { createApi, normalizeMigrations, MigrationError } from "./api.js";

let ready;
export function init(input) {
  ready ??= initWasm({ module_or_path: input });
  return ready;
}
let adapterReady;
export function initAdapter(input) {
  adapterReady ??= initAdapterWasm({ module_or_path: input });
  return adapterReady;
}
const api = createApi({ adapter: () => adapterWasm, embedded: () => wasm });
export async function openMigrator(options) {
  const [loaded, what, file] = options?.adapter ? [adapterReady, "initAdapter", "athanor_adapter_bg.wasm"] : [ready, "init", "athanor_bg.wasm (or athanor_ext_bg.wasm)"];
  if (!loaded) throw new MigrationError(`call \`await ${what}(wasm)\` with ${file} before openMigrator() with athanor/slim`, "USAGE");
  await loaded;
  return api.openMigrator(options);
}
export { MigrationError, normalizeMigrations };
export { d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./adapters.js";
