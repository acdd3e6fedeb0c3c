// The heads an `athanor bundle` module names (a symbol on its default export, invisible
// to iteration), and the answer every migrator gives from heads it knows without parsing
// a migration: an upgrade to those heads of a database whose version table holds them.

/** The heads `migrations` names, or null (none, or not a list of revision ids). */
export function bundleHeads(migrations) {
  const heads = migrations?.[Symbol.for("athanor.heads")];
  return Array.isArray(heads) && heads.every((h) => typeof h === "string") ? heads : null;
}

/** The query of the default version table's rows, as the wasm's versionRowsSql(null)
 * writes it: scripts/build_pkg.py asks the wasm when it builds the package, so that the
 * check at head makes no call into the wasm (on a cold Worker's first request, the
 * functions behind that call were compiled then). */
const DEFAULT_ROWS_SQL = "__ATHANOR_ROWS_SQL__";

/** The query that reads the version table `table` (null: the default). */
export const rowsSql = (wasm, table) => (table == null && !DEFAULT_ROWS_SQL.startsWith("__") ? DEFAULT_ROWS_SQL : wasm.versionRowsSql(table));

/** Whether an upgrade to `target` asks for `heads` (worth reading the rows for). */
export function namesHeads(heads, target) {
  return Boolean(heads) && (target === "heads" || (target === "head" && heads.length === 1));
}

/** The report of an upgrade to `target` from the version table's `rows`, when `heads`
 * answer it (the target names them and the rows are exactly them); else null. */
export function atHeadsReport(heads, target, rows) {
  if (!namesHeads(heads, target) || rows.length !== heads.length || !heads.every((h) => rows.includes(h))) return null;
  return { steps: [], before: rows, after: rows, warnings: [] };
}

// Remembered heads (opfs-heads.js beside an OPFS pool, node-heads.js in an install's
// node_modules/.cache): heads a parse found, by a fingerprint of the exact bytes parsed
// and of this package's version, so that the next start at head with the same
// migrations parses nothing. An entry is never wrong for the bytes it names: the heads
// are a function of the files alone. The store is `[[fingerprint, heads], ...]` as JSON,
// newest first.

/** Entries kept (a store may serve several sets, and sets change). */
const KEEP = 16;
/** This package's version (scripts/build_pkg.py writes it): a new parser may read the
 * same bytes differently. */
const VERSION = "__ATHANOR_VERSION__";

/** A set's fingerprint from the digest(s) of its bytes (each store hashes them its own
 * way) and this package's version. */
export const fingerprintOf = (...digests) => [VERSION, ...digests].join(":");

/** A store's entries from its text; anything unreadable is an empty store. */
export function readEntries(text) {
  try {
    const entries = JSON.parse(text);
    return Array.isArray(entries)
      ? entries.filter((e) => Array.isArray(e) && typeof e[0] === "string" && Array.isArray(e[1]) && e[1].every((h) => typeof h === "string"))
      : [];
  } catch {
    return [];
  }
}

/** The heads remembered for `print` in `entries`, or null. */
export const recall = (entries, print) => entries.find(([p]) => p === print)?.[1] ?? null;

/** The store's new text with `heads` for `print` first; null when that is already so
 * (an entry the parse contradicts is replaced). */
export function withEntry(entries, print, heads) {
  const [first] = entries;
  if (first?.[0] === print && first[1].length === heads.length && first[1].every((h, i) => h === heads[i])) return null;
  return JSON.stringify([[print, heads], ...entries.filter(([p]) => p !== print)].slice(0, KEEP));
}
