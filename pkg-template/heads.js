// The heads an `athanor bundle` module names (a symbol on its default export, invisible
// to iteration), and the answer every migrator gives from heads it knows without parsing
// a migration: an upgrade to those heads of a database whose version table holds them.

/** The heads `migrations` names, or null (none, or not a list of revision ids). */
export function bundleHeads(migrations) {
  const heads = migrations?.[Symbol.for("athanor.heads")];
  return Array.isArray(heads) && heads.every((h) => typeof h === "string") ? heads : null;
}

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
