import { openMigrator, d1, libsql, D1_MAX_BATCH, MigrationError, type Report } from "athanor";
async function main(db: unknown) {
  const m = await openMigrator({ migrations: { "a.sql": "x" }, database: ":memory:" });
  const r: Report = await m.upgrade("head", { onProgress: (e) => console.log(e.phase, e.revision) });
  const sql: string = m.plan("head");
  const g = m.autogenerate("CREATE TABLE a (x);");
  if (g) console.log(g.changes.join());
  const renamed = m.autogenerate("CREATE TABLE a (y);", { rename: { "a.x": "y" } });
  if (renamed) console.log(renamed.upgradeTransactional);
  const h = await openMigrator({ migrations: [], adapter: d1(db) });
  const parts: string[] = h.split("SELECT 1;");
  // Batching adapters report how the run was sent and how often it planned again.
  const l = await openMigrator({ migrations: [], adapter: libsql(db) });
  const lr = await l.upgrade("head");
  const sent: "one" | "per-migration" | undefined = lr.batches;
  const replans: number | undefined = lr.replans;
  await openMigrator({ migrations: [], adapter: d1(db, { maxBatch: D1_MAX_BATCH / 2 }) });
  try { await h.upgrade(); } catch (e) { if (e instanceof MigrationError) console.log(e.code, e.data.revision); }
  const rows = await m.query<{ n: number }>("SELECT ? AS n", [1]);
  const changed: number = await m.exec("CREATE TABLE b (y)");
  const bound: number = await m.exec("INSERT INTO b VALUES (?)", [1]);
  // A browser's OPFS database: every method answers asynchronously.
  const o = await openMigrator({ migrations: { "a.sql": "x" }, database: "app.db", storage: "opfs" });
  const offline: string = await o.plan("head");
  const files: string[] = await o.files();
  await o.close();
  return [r, sql, parts, sent, replans, lr.steps[0]?.revision, rows[0].n, changed, bound, offline, files];
}
main(null);

// athanor/safety: test and lint on the migrations alone (a directory too, in Node).
import { testMigrations, lintMigrations, type TestReport, type LintReport } from "athanor/safety";
async function safety() {
  const t: TestReport = await testMigrations("migrations", { seed: true, versionTable: "alembic_version" });
  const failed: string | null = t.failure?.revision ?? null;
  const l: LintReport = await lintMigrations({ "./m/a.sql": "x" }, { range: "base:heads" });
  const pending = await lintMigrations([{ name: "a.sql", text: "x" }], { rows: ["a"] });
  // @ts-expect-error rows are revision ids
  await lintMigrations([], { rows: "a" });
  return [failed, l.findings[0]?.class, pending.revisions];
}
safety();
