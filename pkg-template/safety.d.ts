// `athanor/safety`: `athanor test` and `athanor lint` on the migrations alone, in Node,
// browsers and Workers. Loads the package's full wasm (about 680 KiB gzip) on the first
// call: in Node from disk, in a browser fetched next to the entry (bundlers emit it only
// for apps that import this entry), in workerd as a bundled module.
import type { Migrations, TestReport, LintReport } from "./index.js";
export type { Migrations, TestReport, LintReport, LintFinding } from "./index.js";

/** `athanor test` on scratch in-memory databases: each revision's upgrade, downgrade
 * and upgrade again, its downgrade checked to restore the schema, then down to base and
 * up to the heads. `seed`: rows in every table before each step. */
export declare function testMigrations(migrations: Migrations, options?: { seed?: boolean; versionTable?: string }): Promise<TestReport>;
/** `athanor lint`: each migration of `range` (as `history -r`, e.g. "base:heads";
 * default: what an upgrade from `rows`, the version table's revisions, would apply, or
 * without `rows` the heads) applied on a scratch copy of the schema before it, its
 * changes classed. */
export declare function lintMigrations(migrations: Migrations, options?: { range?: string; rows?: string[] }): Promise<LintReport>;
/** Loads the full wasm now (browsers: from `input`, a URL, Response, bytes or
 * WebAssembly.Module; elsewhere a no-op). */
export declare function init(input?: unknown): Promise<unknown>;
