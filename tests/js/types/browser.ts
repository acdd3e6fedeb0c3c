// A browser app (web.js): a named database is in OPFS, behind a worker.
import { openMigrator, MigrationError, type Migrator, type OpfsMigrator } from "athanor";
async function main() {
  const migrations = { "./migrations/a.sql": "x" };
  const o: OpfsMigrator = await openMigrator({ database: "app.db", migrations });
  const pending: Promise<string> = o.plan("head");
  const sql: string = await pending;
  const changed: number = await o.exec("INSERT INTO t VALUES (?)", ["x"]);
  await o.close();
  // No database: in memory, in the page, `plan` synchronous as in Node.
  const m: Migrator = await openMigrator({ migrations });
  const now: string = m.plan("head");
  const mem: Migrator = await openMigrator({ migrations, database: "app.db", storage: "memory" });
  try { await mem.upgrade(); } catch (e) { if (e instanceof MigrationError && e.code === "WORKER_FAILED") console.log(e.message); }
  return [sql, changed, now];
}
main();
