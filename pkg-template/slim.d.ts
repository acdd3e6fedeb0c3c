export type * from "./index.js";
export { MigrationError, openMigrator, init, normalizeMigrations, d1, durableObject, libsql, sqliteWasm, betterSqlite3, nodeSqlite, D1_MAX_BATCH } from "./index.js";
/** Loads the adapter wasm (athanor_adapter_bg.wasm: the Planner, no SQLite) that
 * openMigrator({ adapter }) runs on; `input` as init's. */
export declare function initAdapter(input: RequestInfo | URL | BufferSource | WebAssembly.Module): Promise<unknown>;
