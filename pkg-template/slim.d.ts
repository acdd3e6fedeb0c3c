export type * from "./index.js";
export { MigrationError, openMigrator, init, normalizeMigrations, d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./index.js";
