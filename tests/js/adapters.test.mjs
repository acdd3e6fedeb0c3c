// Host adapters: the same migrations through the embedded engine and through a host's
// own SQLite (the official `@sqlite.org/sqlite-wasm` build, in memory) give the same
// schema and version table; failures and relative targets behave the same.
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

const file = (id, revises, up, down = "") => `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n${down}\n`;
const failing = {
  "a1a1_a.sql": file("a1a1", "", "CREATE TABLE a (x);"),
  "b2b2_b.sql": file("b2b2", "a1a1", "CREATE TABLE b (x);\nINSERT INTO nope VALUES (1);"),
};

test("a failing step through the adapter: by default the whole run rolls back, as the embedded engine", async () => {
  const db = new sqlite3.oo1.DB(":memory:");
  const m = await openMigrator({ migrations: failing, adapter: sqliteWasm(db) });
  await assert.rejects(m.upgrade("head"), (e) => {
    assert.equal(e.code, "MIGRATION_FAILED");
    assert.equal(e.data.revision, "b2b2");
    assert.equal(e.data.line, 7);
    assert.match(e.data.sqliteMessage, /no such table: nope/);
    return true;
  });
  assert.deepEqual(await m.rows(), []);
  assert.equal(db.selectValue("SELECT count(*) FROM sqlite_master"), 0, "nothing left: not a, not the version table");
  db.exec("BEGIN; COMMIT;"); // throws if the run had left a transaction open
  db.close();
});

test("a failing step with transactionPerMigration keeps the last completed step", async () => {
  const db = new sqlite3.oo1.DB(":memory:");
  const m = await openMigrator({ migrations: failing, adapter: sqliteWasm(db), transactionPerMigration: true });
  await assert.rejects(m.upgrade("head"), { code: "MIGRATION_FAILED" });
  assert.deepEqual(await m.rows(), ["a1a1"]);
  assert.equal(db.selectValue("SELECT count(*) FROM sqlite_master WHERE name = 'b'"), 0, "the failed step rolled back whole");
  assert.deepEqual(m.split("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END; SELECT 3;"), [
    "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;",
    "SELECT 3;",
  ]);
  db.close();
});

// Checksums and stamp: the adapter path and the embedded engine (on a file) answer the
// same, with the same codes.
const base = {
  "a1a1_a.sql": file("a1a1", "", "CREATE TABLE a (x);", "DROP TABLE a;"),
  "b2b2_b.sql": file("b2b2", "a1a1", "CREATE TABLE b (x);", "DROP TABLE b;"),
};
const edited = { ...base, "a1a1_a.sql": file("a1a1", "", "CREATE TABLE a (x, y);", "DROP TABLE a;") };
const grown = (set) => ({ ...set, "c3c3_c.sql": file("c3c3", "b2b2", "CREATE TABLE c (x);", "DROP TABLE c;") });

// Each test gets a fresh database (made on first use: sqlite3 loads in before()).
function hosts() {
  let db, n = 0;
  const wasmDb = () => (db ??= new sqlite3.oo1.DB(":memory:"));
  return [
    {
      name: "sqlite-wasm adapter",
      fresh: () => (db = undefined),
      open: (migrations) => openMigrator({ migrations, adapter: sqliteWasm(wasmDb()) }),
      tables: () => wasmDb().selectValues("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
    },
    {
      name: "embedded",
      fresh: () => n++,
      open: (migrations) => openMigrator({ migrations, database: join(work, `embedded-${n}.db`) }),
      tables: null,
    },
  ];
}

for (const host of hosts()) {
  test(`${host.name}: an applied migration edited afterwards is CHECKSUM_MISMATCH when there is work, and changes nothing`, async () => {
    host.fresh();
    await (await host.open(base)).upgrade("head");
    // Nothing to do: no hashing (as the embedded engine: checksums guard what runs).
    assert.equal((await (await host.open(edited)).upgrade("head")).steps.length, 0);
    const m = await host.open(grown(edited));
    await assert.rejects(m.upgrade("head"), (e) => {
      assert.equal(e.code, "CHECKSUM_MISMATCH", e.message);
      assert.equal(e.data.revision ?? e.revision, "a1a1");
      assert.match(e.message, /a1a1.*modified after it was applied/);
      return true;
    });
    await assert.rejects(m.downgrade("base"), { code: "CHECKSUM_MISMATCH" });
    assert.deepEqual(await m.rows(), ["b2b2"]);
    if (host.tables) assert.deepEqual(host.tables(), ["a", "alembic_version", "athanor_history", "b"]);
    // stamp --purge accepts the edit: the recorded checksums are forgotten.
    const stamped = await m.stamp("b2b2", { purge: true });
    assert.deepEqual(stamped.after, ["b2b2"]);
    const up = await m.upgrade("head");
    assert.deepEqual(up.steps.map((s) => s.revision), ["c3c3"]);
    assert.deepEqual(await m.rows(), ["c3c3"]);
    // The unedited set is now the mismatch: c3c3 was recorded with the new a1a1 forgotten,
    // so only a change to c3c3 itself is caught.
    const changedC = { ...grown(edited), "c3c3_c.sql": file("c3c3", "b2b2", "CREATE TABLE c (y);", "DROP TABLE c;") };
    await assert.rejects((await host.open(changedC)).downgrade("base"), { code: "CHECKSUM_MISMATCH" });
  });

  test(`${host.name}: stamp moves the version table without running anything; bad targets change nothing`, async () => {
    host.fresh();
    const m = await host.open(grown(base));
    assert.deepEqual((await m.stamp("b2b2")).after, ["b2b2"]);
    assert.deepEqual(await m.rows(), ["b2b2"]);
    if (host.tables) assert.deepEqual(host.tables(), ["alembic_version", "athanor_history"], "stamp ran no migration");
    await assert.rejects(m.stamp("nope"), { code: "UNKNOWN_REVISION" });
    assert.deepEqual(await m.rows(), ["b2b2"]);
    const up = await m.upgrade("head");
    assert.deepEqual(up.steps.map((s) => s.revision), ["c3c3"], "only what is above the stamp runs");
    assert.deepEqual((await m.stamp("base")).after, []);
    assert.deepEqual(await m.rows(), []);
    // A row the migrations do not know: DATABASE_AHEAD, as the embedded engine.
    // Two targets naming one revision stamp it once (this used to trap in the wasm).
    assert.deepEqual((await m.stamp(["c3c3", "head"])).after, ["c3c3"]);
    await assert.rejects((await host.open(base)).stamp("a1a1"), { code: "DATABASE_AHEAD" });
    assert.deepEqual(await m.rows(), ["c3c3"]);
  });
}

test("stamp through the adapter keeps athanor_history to what the version table implies", async () => {
  const db = new sqlite3.oo1.DB(":memory:");
  const m = await openMigrator({ migrations: grown(base), adapter: sqliteWasm(db) });
  await m.upgrade("head");
  const recorded = () => db.selectValues("SELECT revision FROM athanor_history ORDER BY revision");
  assert.deepEqual(recorded(), ["a1a1", "b2b2", "c3c3"]);
  await m.stamp("a1a1");
  assert.deepEqual(recorded(), ["a1a1"], "stamping down forgets what is no longer applied");
  await m.stamp("c3c3");
  assert.deepEqual(recorded(), ["a1a1"], "stamping up records nothing: nothing ran");
  await m.stamp("c3c3", { purge: true });
  assert.deepEqual(recorded(), []);
  db.close();
});
