// The types of the browser entries (web.js, and web-extended.js for athanor/extended),
// picked by bundlers' resolution (Vite, esbuild: the "types" condition); Node projects get
// index.d.ts through the "node" condition. They differ in one place: in a browser a named
// database lives in OPFS behind a worker, so its migrator answers every call, `plan` too,
// with a promise (`autogenerate` is Node's).
import type { OpenOptions, Adapter, AdapterMigrator, Migrator, OpfsMigrator } from "./index.js";
export * from "./index.js";

export declare function openMigrator(options: OpenOptions & { adapter: Adapter }): Promise<AdapterMigrator>;
export declare function openMigrator(options: OpenOptions & { storage: "memory" }): Promise<Migrator>;
/** No database (or ":memory:"): in memory, synchronous `plan`. */
export declare function openMigrator(options: OpenOptions & { database?: ":memory:" | ""; storage?: undefined }): Promise<Migrator>;
/** A named database: in OPFS (the default `storage`). */
export declare function openMigrator(options: OpenOptions): Promise<OpfsMigrator>;
