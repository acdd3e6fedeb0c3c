// What a migration run leaves in a database, as comparable data, read the same way on
// every host (one `values(sql)` function: the first column of each row). Times are left
// out; so are host-internal tables (`sqlite_*`, Cloudflare's `_cf_*`).
// No Node imports: a Worker imports this file too (workerd.test.mjs).

export const SNAPSHOT_SQL = {
  schema: "SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY type, name",
  versions: "SELECT version_num FROM alembic_version ORDER BY rowid",
  history: "SELECT version_table || ' ' || revision || ' ' || checksum FROM athanor_history ORDER BY revision",
};

/** `values` may be async (D1); a table that does not exist yet reads as no rows. */
export async function snapshot(values) {
  const out = {};
  for (const [k, sql] of Object.entries(SNAPSHOT_SQL)) {
    try {
      out[k] = await values(sql);
    } catch (e) {
      if (!/no such table/.test(String(e?.message ?? e))) throw e;
      out[k] = [];
    }
  }
  return out;
}

/** Runs `ops` ([{ op: "upgrade"|"downgrade"|"stamp", target, purge, set }, or { op: "sql",
 * sql }: one statement of another tool, such as Alembic]) one by one, each through a
 * migrator that `open(migrations)` gives; records each outcome and the snapshot after
 * it. The same function runs in Node and inside a Worker. */
export async function runOps(open, values, sets, ops) {
  const out = [];
  for (const { op, target, purge, set = "main", sql } of ops) {
    try {
      if (op === "sql") {
        await values(sql);
        out.push({ ok: true, steps: [], snapshot: await snapshot(values) });
        continue;
      }
      const m = await open(sets[set]);
      const r = op === "stamp" ? await m.stamp(target, { purge }) : await m[op](target);
      out.push({ ok: true, steps: r.steps.map((s) => s.revision), snapshot: await snapshot(values) });
    } catch (e) {
      out.push({ ok: false, code: e?.code ?? null, message: String(e?.message ?? e), revision: e?.data?.revision ?? null, snapshot: await snapshot(values) });
    }
  }
  return out;
}
