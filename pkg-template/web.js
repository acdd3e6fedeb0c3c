// Browsers and bundlers (web-api.js): the embedded engine's SQLite without FTS5 and
// R*Tree, the smaller download (issue 14); `athanor/extended` (web-extended.js) has them.
import { webApi } from "./web-api.js";

export const { init, openMigrator } = webApi(new URL("./athanor_bg.wasm", import.meta.url));
export { MigrationError, normalizeMigrations } from "./api.js";
export { d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./adapters.js";
