import type { ErrorCode } from "./athanor.js";
export type { ErrorCode } from "./athanor.js";

/** A migration file's text (its file name orders it, as in Alembic). */
export interface MigrationFile {
  name: string;
  text: string;
}

/** A revision given as fields instead of file text. */
export interface MigrationObject {
  revision: string;
  revises?: string | string[] | null;
  branchLabels?: string | string[];
  dependsOn?: string | string[];
  message?: string;
  createDate?: string;
  /** SQL run by `upgrade`. */
  upgrade: string;
  /** SQL run by `downgrade`; omit for an irreversible revision. */
  downgrade?: string;
}

/**
 * The migrations: `{ "./migrations/abc_add.sql": text }` (what
 * `import.meta.glob("./migrations/*.sql", { query: "?raw", import: "default", eager: true })`
 * returns), an array of file texts or objects, or — in Node only — a directory path.
 */
export type Migrations =
  | Record<string, string | { default: string }>
  | Array<string | MigrationFile | MigrationObject>
  | string;

export interface VersionChange {
  op: "insert" | "delete" | "update";
  version?: string;
  from?: string;
  to?: string;
}

export interface Step {
  index: number;
  total: number;
  direction: "upgrade" | "downgrade" | "stamp";
  revision: string | null;
  message: string | null;
  from: string[];
  to: string[];
  versionChanges: VersionChange[];
  /** Milliseconds the step took (in reports). */
  ms?: number;
}

export interface ProgressEvent extends Step {
  phase: "start" | "done";
}

export interface Report {
  steps: Step[];
  /** Version-table rows before and after. */
  before: string[];
  after: string[];
  warnings: string[];
}

export interface HistoryEntry {
  revision: string;
  revises: string[];
  dependsOn: string[];
  branchLabels: string[];
  message: string;
  isHead: boolean;
  isMergePoint: boolean;
  isBranchPoint: boolean;
}

export interface OpenOptions {
  migrations: Migrations;
  /** ":memory:" (default), or a file path in Node. */
  database?: string;
  /** Alembic's version table name (default "alembic_version"). */
  versionTable?: string;
  /** Commit each migration on its own (default: the whole run is one transaction). */
  transactionPerMigration?: boolean;
  /** How long to wait for another connection's write lock before LOCKED (ms, default 5000). */
  busyTimeout?: number;
  /** A SQLite VFS registered by name (default: Node's file VFS for paths, memory otherwise). */
  vfs?: string;
  onProgress?: (event: ProgressEvent) => void;
}

export interface RunOptions {
  onProgress?: (event: ProgressEvent) => void;
}

export interface Migrator {
  upgrade(target?: string, options?: RunOptions): Promise<Report>;
  downgrade(target: string, options?: RunOptions): Promise<Report>;
  stamp(targets: string | string[], options?: { purge?: boolean }): Promise<Report>;
  current(): Promise<string[]>;
  rows(): Promise<string[]>;
  heads(): Promise<string[]>;
  history(range?: string): Promise<HistoryEntry[]>;
  /** Offline mode: the SQL as text (Alembic's `--sql`); nothing is touched. */
  plan(target?: string, options?: { direction?: "upgrade" | "downgrade"; from?: string[] }): string;
  close(): void;
}

export declare class MigrationError extends Error {
  readonly code: ErrorCode | "INTERNAL_ERROR";
  readonly data: {
    revision?: string;
    file?: string;
    line?: number;
    statement?: string;
    sqliteMessage?: string;
    [key: string]: unknown;
  };
  readonly revision?: string;
  readonly statement?: string;
  readonly line?: number;
}

export declare function openMigrator(options: OpenOptions): Promise<Migrator>;
/** Loads the wasm (browsers: optional, openMigrator does it; Node/workers: no-op). */
export declare function init(input?: RequestInfo | URL | BufferSource | WebAssembly.Module): Promise<unknown>;
export declare function normalizeMigrations(migrations: Migrations): unknown;
