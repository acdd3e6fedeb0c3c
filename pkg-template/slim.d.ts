export type * from "./index.js";
export { MigrationError, openMigrator, init, normalizeMigrations } from "./index.js";
