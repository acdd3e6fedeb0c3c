// `athanor/extended` in browsers (web-api.js): as web.js, with SQLite's FTS5 and R*Tree in
// the embedded engine's wasm (athanor_ext_bg.wasm: 72 KiB gzip more).
import { webApi } from "./web-api.js";

export const { init, openMigrator } = webApi(new URL("./athanor_ext_bg.wasm", import.meta.url));
export { MigrationError, normalizeMigrations } from "./api.js";
export { d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./adapters.js";
