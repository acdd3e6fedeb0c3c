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

// athanor/safety in a browser app: its own wasm, loaded on the first call.
import { testMigrations, lintMigrations, init } from "athanor/safety";
async function safety() {
  await init(new URL("/assets/athanor_full_bg.wasm", location.href));
  const { passed } = await testMigrations({ "./migrations/a.sql": "x" });
  const { findings } = await lintMigrations({ "./migrations/a.sql": "x" }, { range: "base:heads" });
  return [passed, findings.map((f) => `${f.file}:${f.line} ${f.class}`)];
}
safety();

// athanor/extended: the same API, SQLite with FTS5 and R*Tree.
import { openMigrator as openExtended, type OpfsMigrator as ExtendedMigrator } from "athanor/extended";
async function extended() {
  const o: ExtendedMigrator = await openExtended({ database: "search.db", migrations: { "./migrations/a.sql": "x" } });
  const rows: Record<string, unknown>[] = await o.query("SELECT rowid FROM notes_fts WHERE notes_fts MATCH ?", ["x"]);
  return rows;
}
extended();
