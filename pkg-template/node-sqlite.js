// Database files in Node open through Node's own SQLite (`node:sqlite`, Node ≥ 22.13
// without a flag): its locks are SQLite's, shared with every other process on the file
// (the sqlite3 shell, Python, better-sqlite3, the app's server), and WAL works. On a
// Node without it there is no silent fallback: a NODE_SQLITE_UNAVAILABLE error says
// what to do instead.
import { createRequire } from "node:module";

let sqlite;
let require;

/** A Node built-in, synchronously: `process.getBuiltinModule` where the runtime has it
 * (Node >= 22.3), which skips the ES-module facade an `import` builds (for node:fs that
 * loads its streams too: 3 ms of every CLI run, and node:crypto 4 ms more). */
export const builtin = (name) => process.getBuiltinModule?.(name) ?? (require ??= createRequire(import.meta.url))(name);

/** Why node:sqlite cannot load here, in words for the error. */
function whyNot(e) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22) return `Node ${process.version} has no node:sqlite`;
  if (major === 22 && minor < 13) return `Node ${process.version} has node:sqlite only behind --experimental-sqlite`;
  return `Node ${process.version} could not load it: ${e?.message ?? "no DatabaseSync"}`;
}

/** node:sqlite, loaded synchronously on first use (the CLI's wasm asks for a database
 * mid-command). Node 22 prints an ExperimentalWarning when it loads: that one warning
 * is dropped, so the CLI's output stays Alembic's; every other warning passes. Throws
 * `{ code: "NODE_SQLITE_UNAVAILABLE", message: reason }` where it is missing. */
export function nodeSqliteModule() {
  if (sqlite) return sqlite;
  const emit = process.emitWarning;
  process.emitWarning = function (warning, ...args) {
    const type = typeof args[0] === "string" ? args[0] : args[0]?.type;
    if (type === "ExperimentalWarning" && /SQLite/.test(String(warning?.message ?? warning))) return;
    return emit.call(this, warning, ...args);
  };
  let error;
  try {
    // Not `builtin`: where process.getBuiltinModule answers undefined, that is the answer.
    sqlite = process.getBuiltinModule ? process.getBuiltinModule("node:sqlite") : builtin("node:sqlite");
  } catch (e) {
    error = e;
  } finally {
    process.emitWarning = emit;
  }
  if (!sqlite?.DatabaseSync) {
    sqlite = undefined;
    throw Object.assign(new Error(whyNot(error)), { code: "NODE_SQLITE_UNAVAILABLE" });
  }
  return sqlite;
}

/** A `DatabaseSync` on `path`, as athanor migrates: waiting `timeout` ms for other
 * connections' locks, with SQLite's defaults as the sqlite3 shell, Python, Alembic and
 * the native CLI have them, where node:sqlite changes them: foreign keys off, and
 * double-quoted string literals accepted (real histories write `WHERE key = "x"`). */
export function openDatabaseSync(path, { timeout = 5000 } = {}) {
  const { DatabaseSync } = nodeSqliteModule();
  return new DatabaseSync(path, { timeout, enableForeignKeyConstraints: false, enableDoubleQuotedStringLiterals: true });
}

/** The file's identity (device and inode), to tell later whether it is still the one at
 * its path; `null` for memory or a file that is not there. */
export function fileIdentity(path) {
  if (path === ":memory:") return null;
  const st = builtin("node:fs").statSync(path, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.dev}:${st.ino}` : null;
}
