// The official `@sqlite.org/sqlite-wasm` build (in memory) through its adapter: the example
// migrations, progress events and relative targets as the embedded engine has them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const { openMigrator, sqliteWasm } = await import(pathToFileURL(join(pkg, "node.js")).href);
const example = join(root, "example/migrations");
let work, sqlite3;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "athanor-adapters-"));
  writeFileSync(join(work, "package.json"), JSON.stringify({ name: "adapters", private: true, type: "module" }));
  execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", "--save-exact", "@sqlite.org/sqlite-wasm@3.54.1-build1"], { cwd: work });
  const init = (await import(pathToFileURL(join(work, "node_modules/@sqlite.org/sqlite-wasm/dist/node.mjs")).href)).default;
  sqlite3 = await init();
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Everything but athanor's history table, normalized: what a migration set built. */
function schemaOf(select) {
  return select("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != 'athanor_history' ORDER BY type, name");
}

test("the official sqlite-wasm build through the adapter matches the embedded engine", async () => {
  const embedded = await openMigrator({ migrations: example });
  await embedded.upgrade("head");
  const db = new sqlite3.oo1.DB(":memory:");
  const hosted = await openMigrator({ migrations: example, adapter: sqliteWasm(db) });
  const events = [];
  const report = await hosted.upgrade("head", { onProgress: (e) => events.push(`${e.phase} ${e.revision}`) });
  assert.equal(report.steps.length, 7);
  assert.equal(events.length, 14);
  assert.deepEqual(await hosted.rows(), await embedded.rows());
  assert.deepEqual(await hosted.heads(), await embedded.heads());
  // Same schema as the embedded engine built (read back through a plan of nothing).
  const hostedSchema = schemaOf((q) => db.selectValues(q));
  assert.ok(hostedSchema.some((s) => s.startsWith("table note ")), hostedSchema.join("\n"));
  assert.equal(db.selectValue("SELECT count(*) FROM athanor_history"), 7);
  // Relative downgrade and back, through the adapter.
  await hosted.downgrade("-1");
  assert.deepEqual(await hosted.rows(), ["6f7a8b9c0d1e"]);
  assert.equal(db.selectValue("SELECT count(*) FROM pragma_table_info('note') WHERE name = 'archived_at'"), 0);
  const again = await hosted.upgrade("head");
  assert.deepEqual(again.steps.map((s) => s.revision), ["7a8b9c0d1e2f"]);
  assert.equal((await hosted.upgrade("head")).steps.length, 0);
  db.close();
});

test("split() gives statements by SQLite's rules, for hosts that take one at a time", async () => {
  const m = await openMigrator({ migrations: example, adapter: sqliteWasm(new sqlite3.oo1.DB(":memory:")) });
  assert.deepEqual(m.split("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END; SELECT 3;"), [
    "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;",
    "SELECT 3;",
  ]);
});

// Checksums, stamp and failures on every host: hosts.test.mjs.
