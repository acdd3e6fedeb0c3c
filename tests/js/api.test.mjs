// The JS API of the built package (pkg/), on the embedded SQLite in memory, and (where
// this Node has node:sqlite; tests/js/node_versions.test.mjs runs this file under Node
// 22 and 24) on database files.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasNodeSqlite } from "./lib/node.mjs";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const { openMigrator, MigrationError } = await import(`${pkg}/node.js`);
const example = fileURLToPath(new URL("../../example/migrations", import.meta.url));

const file = (id, revises, up, down = null, extra = "") =>
  `-- Revision ID: ${id}\n-- Revises: ${revises}\n${extra}-- Message: step ${id}\n\n-- migrate:upgrade\n${up}\n` +
  (down === null ? "" : `\n-- migrate:downgrade\n${down}\n`);

const chain = {
  "./m/aaaa0001_a.sql": file("aaaa0001", "", "CREATE TABLE t1 (id INTEGER PRIMARY KEY);", "DROP TABLE t1;"),
  "./m/bbbb0002_b.sql": file("bbbb0002", "aaaa0001", "CREATE TABLE t2 (id INTEGER PRIMARY KEY);", "DROP TABLE t2;"),
  "./m/cccc0003_c.sql": file("cccc0003", "bbbb0002", "CREATE TABLE t3 (id INTEGER PRIMARY KEY);", "DROP TABLE t3;"),
};

test("a directory of migrations upgrades to head with progress events", async () => {
  const events = [];
  const m = await openMigrator({ migrations: example, onProgress: (e) => events.push(`${e.phase} ${e.index + 1}/${e.total} ${e.revision}`) });
  const report = await m.upgrade("head");
  assert.equal(report.steps.length, 7);
  assert.deepEqual(report.before, []);
  assert.deepEqual(report.after, ["7a8b9c0d1e2f"]);
  assert.equal(events.length, 14);
  assert.equal(events[0], "start 1/7 1a2b3c4d5e6f");
  assert.equal(events.at(-1), "done 7/7 7a8b9c0d1e2f");
  assert.deepEqual(await m.current(), ["7a8b9c0d1e2f"]);
  assert.deepEqual(await m.heads(), ["7a8b9c0d1e2f"]);
  const history = await m.history();
  assert.equal(history.length, 7);
  assert.equal(history[0].revision, "7a8b9c0d1e2f");
  assert.deepEqual(history[1].revises, ["4d5e6f7a8b9c", "5e6f7a8b9c0d"]);
  assert.equal(history[1].isMergePoint, true);
  m.close();
});

test("glob-shaped objects, module-shaped values, arrays of texts and objects", async () => {
  const modules = Object.fromEntries(Object.entries(chain).map(([k, v]) => [k, { default: v }]));
  for (const migrations of [chain, modules, Object.values(chain).map((text, i) => ({ name: `${i}.sql`, text }))]) {
    const m = await openMigrator({ migrations });
    await m.upgrade();
    assert.deepEqual(await m.rows(), ["cccc0003"]);
    m.close();
  }
  const objects = [
    { revision: "aaaa0001", message: "a", upgrade: "CREATE TABLE a (x);", downgrade: "DROP TABLE a;" },
    { revision: "bbbb0002", revises: "aaaa0001", branchLabels: ["b"], message: "b", upgrade: "CREATE TABLE b (x);" },
  ];
  const m = await openMigrator({ migrations: objects });
  const report = await m.upgrade("b@head");
  assert.deepEqual(report.steps.map((s) => s.revision), ["aaaa0001", "bbbb0002"]);
  await assert.rejects(m.downgrade("base"), (e) => e.code === "IRREVERSIBLE" && e.data.revision === "bbbb0002");
  assert.deepEqual(await m.rows(), ["bbbb0002"]);
});

test("downgrade, relative targets, stamp and version changes", async () => {
  const m = await openMigrator({ migrations: chain });
  await m.upgrade("+2");
  assert.deepEqual(await m.rows(), ["bbbb0002"]);
  const down = await m.downgrade("-1");
  assert.deepEqual(down.steps[0].versionChanges, [{ op: "update", from: "bbbb0002", to: "aaaa0001" }]);
  await m.stamp("cccc0003");
  assert.deepEqual(await m.rows(), ["cccc0003"]);
  await m.stamp("base", { purge: true });
  assert.deepEqual(await m.rows(), []);
});

test("plan is Alembic's --sql and touches nothing", async () => {
  const m = await openMigrator({ migrations: chain });
  const sql = m.plan("heads");
  assert.match(sql, /^CREATE TABLE alembic_version \(\n    version_num VARCHAR\(32\) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY \(version_num\)\n\);\n\n-- Running upgrade  -> aaaa0001\n\nCREATE TABLE t1/);
  assert.match(sql, /UPDATE alembic_version SET version_num='cccc0003' WHERE alembic_version.version_num = 'bbbb0002';/);
  assert.deepEqual(await m.rows(), []);
  const down = m.plan("aaaa0001", { direction: "downgrade", from: ["cccc0003"] });
  assert.match(down, /-- Running downgrade cccc0003 -> bbbb0002\n\nDROP TABLE t3;/);
});

test("errors are MigrationErrors with stable codes", async () => {
  await assert.rejects(openMigrator({ migrations: { "x.sql": "-- Revision ID: a1\n-- migrate:upgrade\n" } }), (e) => {
    assert.ok(e instanceof MigrationError);
    assert.equal(e.code, "PARSE_ERROR");
    assert.equal(e.message, "x.sql:1: missing '-- Revises:' header (leave it empty for a base revision)");
    assert.deepEqual(e.data, { file: "x.sql", line: 1 });
    return true;
  });
  const m = await openMigrator({ migrations: chain });
  await assert.rejects(m.upgrade("zzzz"), { code: "UNKNOWN_REVISION" });
  await assert.rejects(m.upgrade("-1"), { code: "INVALID_TARGET" });
  await assert.rejects(openMigrator({ migrations: "/no/such/dir" }), { code: "IO_ERROR" });
  await assert.rejects(openMigrator({}), { code: "USAGE" });
});

test("a failing migration rolls back and names revision, line and statement", async () => {
  const bad = { ...chain, "./m/dddd0004_d.sql": file("dddd0004", "cccc0003", "CREATE TABLE t4 (x);\nINSERT INTO nope VALUES (1);", "DROP TABLE t4;") };
  const m = await openMigrator({ migrations: bad });
  await assert.rejects(m.upgrade(), (e) => {
    assert.equal(e.code, "MIGRATION_FAILED");
    assert.equal(e.revision, "dddd0004");
    assert.equal(e.line, 7);
    assert.equal(e.statement, "INSERT INTO nope VALUES (1);");
    assert.equal(e.sqliteMessage, "no such table: nope");
    assert.equal(e.data.sqliteCode, 1, "SQLite's extended result code (SQLITE_ERROR)");
    return true;
  });
  assert.deepEqual(await m.rows(), []);
  const perStep = await openMigrator({ migrations: bad, transactionPerMigration: true });
  await assert.rejects(perStep.upgrade(), { code: "MIGRATION_FAILED" });
  assert.deepEqual(await perStep.rows(), ["cccc0003"]);
});

test("autogenerate compares a declared schema with the migrations, touching nothing", async () => {
  const m = await openMigrator({ migrations: chain });
  assert.equal(m.autogenerate("CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nCREATE TABLE t2 (id INTEGER PRIMARY KEY);\nCREATE TABLE t3 (id INTEGER PRIMARY KEY);"), null);
  const g = m.autogenerate("CREATE TABLE t1 (id INTEGER PRIMARY KEY, note TEXT);\nCREATE TABLE t2 (id INTEGER PRIMARY KEY);");
  assert.ok(g.changes.length >= 2, JSON.stringify(g.changes));
  assert.match(g.upgrade, /ALTER TABLE "?t1"? ADD COLUMN "?note"? TEXT/);
  assert.match(g.upgrade, /-- WARNING: .*t3/);
  assert.match(g.upgrade, /DROP TABLE "?t3"?/);
  assert.match(g.downgrade, /CREATE TABLE "?t3"?/);
  assert.equal(g.upgradeTransactional, true);
  assert.deepEqual(await m.rows(), []);
  assert.throws(() => m.autogenerate("CREATE TABLE (oops"), { code: "PARSE_ERROR" });
});

test("autogenerate takes declared renames: ALTER TABLE ... RENAME instead of a drop and an add", async () => {
  const m = await openMigrator({ migrations: chain });
  const declared = "CREATE TABLE items (id INTEGER PRIMARY KEY);\nCREATE TABLE t2 (id INTEGER PRIMARY KEY);\nCREATE TABLE t3 (key INTEGER PRIMARY KEY);";
  const g = m.autogenerate(declared, { rename: { t1: "items", "t3.id": "key" } });
  assert.deepEqual(g.changes, ["rename table t1 to items", "rename column t3.id to key"]);
  assert.equal(g.upgrade, '-- rename table t1 to items\nALTER TABLE "t1" RENAME TO "items";\n-- rename column t3.id to key\nALTER TABLE "t3" RENAME COLUMN "id" TO "key";\n');
  assert.equal(g.downgrade, '-- rename column t3.key to id\nALTER TABLE "t3" RENAME COLUMN "key" TO "id";\n-- rename table items to t1\nALTER TABLE "items" RENAME TO "t1";\n');
  assert.throws(() => m.autogenerate(declared, { rename: { nope: "items" } }), { code: "USAGE", message: "--rename nope=items: no table nope to rename" });
});

// Where the database is: the embedded engine in memory, and a file on node:sqlite.
const files = hasNodeSqlite ? mkdtempSync(join(tmpdir(), "athanor-api-")) : null;
after(() => files && rmSync(files, { recursive: true, force: true }));
let fileNo = 0;
const WHERE = [["memory", () => ({})], ...(hasNodeSqlite ? [["a file (node:sqlite)", () => ({ database: join(files, `f${fileNo++}.db`) })]] : [])];

for (const [where, db] of WHERE) {
test(`a version table whose rows are numbers (no column type) reads them as JS writes numbers (${where})`, async () => {
  const m = await openMigrator({ migrations: chain, ...db() });
  await m.exec("CREATE TABLE alembic_version (version_num); INSERT INTO alembic_version VALUES (0.1 + 0.2), (1e21), (7);");
  assert.deepEqual(await m.rows(), ["0.30000000000000004", "1e+21", "7"]);
  m.close();
});

test(`query and exec: the app's reads and writes through the migrated connection (${where})`, async () => {
  const m = await openMigrator({ migrations: chain, ...db() });
  await m.upgrade("head");
  assert.equal(await m.exec("INSERT INTO t1 (id) VALUES (1), (2); INSERT INTO t2 (id) VALUES (7);"), 3);
  const big = 2n ** 60n;
  const rows = await m.query("SELECT ? AS n, ? AS f, ? AS s, ? AS b, ? AS z, ? AS t, ? AS big", [5, 1.5, "x", new Uint8Array([1, 2]), null, true, big]);
  assert.deepEqual(rows, [{ n: 5, f: 1.5, s: "x", b: new Uint8Array([1, 2]), z: null, t: 1, big }]);
  assert.deepEqual(await m.query("SELECT id FROM t1 WHERE id > ? ORDER BY id", [0]), [{ id: 1 }, { id: 2 }]);
  await assert.rejects(m.query("SELECT * FROM nope"), { code: "SQLITE_ERROR", message: /no such table: nope/ });
  await assert.rejects(m.query("SELECT ?", [{}]), { code: "USAGE", message: /parameter 1/ });
  await assert.rejects(m.query("SELECT ?", [2n ** 70n]), { code: "USAGE", message: /does not fit/ });
  await assert.rejects(m.exec("INSERT INTO t1 (id) VALUES (3); INSERT INTO nope VALUES (1);"), { code: "SQLITE_ERROR" });
  m.close();
});

test(`exec binds its params as query does (better-sqlite3's run), never dropping them (${where})`, async () => {
  const m = await openMigrator({ migrations: [file("aaaa0001", "", "CREATE TABLE note (id INTEGER PRIMARY KEY, title TEXT NOT NULL);")], ...db() });
  await m.upgrade("head");
  assert.equal(await m.exec("INSERT INTO note (title) VALUES (?), (?)", ["a", "b"]), 2);
  assert.equal(await m.exec("UPDATE note SET title = ? WHERE id = ?", ["c", 2]), 1);
  assert.deepEqual(await m.query("SELECT title FROM note ORDER BY id"), [{ title: "a" }, { title: "c" }]);
  // No params (or none to bind): a script of any number of statements, as before.
  assert.equal(await m.exec("DELETE FROM note WHERE id = 1; DELETE FROM note WHERE id = 2;", []), 2);
  // Params bind to one statement: a script with them is refused, and nothing ran.
  await assert.rejects(m.exec("INSERT INTO note (title) VALUES (?); DELETE FROM note;", ["x"]), { code: "USAGE", message: /one statement/ });
  await assert.rejects(m.exec("INSERT INTO note (title) VALUES (?)", [{}]), { code: "USAGE", message: /parameter 1/ });
  assert.deepEqual(await m.query("SELECT count(*) AS n FROM note"), [{ n: 0 }]);
  m.close();
});

test(`a closed migrator answers every call with a coded error, not a TypeError (${where})`, async () => {
  const m = await openMigrator({ migrations: chain, ...db() });
  await m.upgrade("head");
  m.close();
  m.close(); // twice is fine
  const closed = { name: "MigrationError", code: "USAGE", message: "the migrator is closed" };
  for (const call of [() => m.upgrade("head"), () => m.downgrade("base"), () => m.stamp("base"), () => m.current(), () => m.rows(), () => m.heads(), () => m.history(), () => m.query("SELECT 1"), () => m.exec("SELECT 1")]) {
    await assert.rejects(call(), closed);
  }
  // The synchronous ones throw it.
  assert.throws(() => m.plan("head"), closed);
  assert.throws(() => m.autogenerate("CREATE TABLE x (y);"), closed);
  const err = await m.current().catch((e) => e);
  assert.ok(err instanceof MigrationError);
});
}

test("a database file in Node is node:sqlite's: the whole API, files another SQLite reads, busyTimeout checked", { skip: !hasNodeSqlite && "this Node has no node:sqlite (node_versions.test.mjs runs it under 22 and 24)" }, async () => {
  const database = join(files, "whole.db");
  const events = [];
  const m = await openMigrator({ database, migrations: chain, busyTimeout: 100, onProgress: (e) => events.push(`${e.phase} ${e.revision}`) });
  assert.deepEqual(await m.rows(), []);
  assert.equal(m.plan("bbbb0002").includes("CREATE TABLE t2"), true);
  assert.equal((await m.upgrade("bbbb0002")).steps.length, 2);
  assert.deepEqual(events, ["start aaaa0001", "done aaaa0001", "start bbbb0002", "done bbbb0002"]);
  assert.deepEqual(await m.current(), ["bbbb0002"]);
  assert.deepEqual(await m.heads(), ["cccc0003"]);
  assert.equal((await m.history()).length, 3);
  assert.equal((await m.upgrade()).steps.length, 1);
  assert.equal((await m.downgrade("-1")).steps.length, 1);
  await m.stamp("heads");
  assert.deepEqual(await m.rows(), ["cccc0003"]);
  // Foreign keys off while migrating, as the sqlite3 shell and Alembic have them.
  assert.deepEqual(await m.query("PRAGMA foreign_keys"), [{ foreign_keys: 0 }]);
  assert.equal(m.autogenerate("CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE t2 (id INTEGER PRIMARY KEY); CREATE TABLE t3 (id INTEGER PRIMARY KEY);"), null);
  m.close();
  // Another connection (the wasm SQLite on its Node VFS, which only the full wasm has)
  // reads what it wrote.
  const other = await openMigrator({ database, migrations: chain, vfs: "athanor-node" });
  assert.deepEqual(await other.rows(), ["cccc0003"]);
  other.close();
  await assert.rejects(openMigrator({ database, migrations: chain, busyTimeout: -1 }), { code: "USAGE", message: /busyTimeout/ });
  await assert.rejects(openMigrator({ database: join(files, "no/such/dir.db"), migrations: chain }), { code: "IO_ERROR", message: /cannot open database/ });
});

test("the embedded SQLite has FTS5, R*Tree, JSON and the math functions", async () => {
  // The wasm build drops some of sqlite-wasm-rs's extensions for size (.cargo/config.toml);
  // these are the ones an app's schema may rely on.
  const m = await openMigrator({ migrations: [] });
  await m.exec("CREATE VIRTUAL TABLE doc USING fts5(body); INSERT INTO doc VALUES ('hello migrations'); CREATE VIRTUAL TABLE box USING rtree(id, x0, x1);");
  assert.deepEqual(await m.query("SELECT body FROM doc WHERE doc MATCH ?", ["migrations"]), [{ body: "hello migrations" }]);
  assert.deepEqual(await m.query("SELECT json_extract(?, '$.a') AS a, sqrt(16) AS s, count(*) AS n FROM box", ['{"a":1}']), [{ a: 1, s: 4, n: 0 }]);
  m.close();
});

test("a NUL character inside a migration is refused clearly", async () => {
  const bad = { ...chain, "./m/bbbb0002_b.sql": chain["./m/bbbb0002_b.sql"].replace("CREATE", "CRE\0ATE") };
  await assert.rejects(openMigrator({ migrations: bad }), { code: "USAGE", message: /contains a NUL character/ });
  await assert.rejects(openMigrator({ migrations: 42 }), { code: "USAGE", message: /must be an array/ });
  await assert.rejects(openMigrator({ migrations: { "a.sql": 1 } }), { code: "USAGE", message: /a.sql is not text/ });
});

test("test() round-trips every revision on a scratch database and names a downgrade that leaves a column behind", async () => {
  const good = await openMigrator({ migrations: example });
  const passed = await good.test();
  assert.equal(passed.passed, true, JSON.stringify(passed.failure));
  assert.equal(passed.tested.length, 7);
  assert.equal(passed.cycle, "passed");
  assert.deepEqual(await good.rows(), [], "the migrator's own database was not touched");
  good.close();

  const leaky = {
    ...chain,
    "./m/dddd0004_d.sql": file("dddd0004", "cccc0003", "ALTER TABLE t3 ADD COLUMN note TEXT;", "SELECT 1;"),
  };
  const m = await openMigrator({ migrations: leaky });
  const report = await m.test({ seed: true });
  assert.equal(report.passed, false);
  assert.equal(report.failure.revision, "dddd0004");
  assert.equal(report.failure.phase, "downgrade");
  assert.deepEqual(report.failure.changes, ["add column t3.note"]);
  assert.ok(report.failure.error instanceof Error);
  assert.equal(report.failure.error.code, "ROUND_TRIP_FAILED");
  assert.deepEqual(report.tested.map((t) => t.revision), ["aaaa0001", "bbbb0002", "cccc0003"]);
  m.close();
});

test("lint() classes each migration's changes; without a range, what the database has not applied", async () => {
  const dir = fileURLToPath(new URL("../fixtures/lint/migrations", import.meta.url));
  const m = await openMigrator({ migrations: dir });
  const all = await m.lint();
  assert.deepEqual(all.revisions, ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]);
  const classes = new Set(all.findings.map((f) => f.class));
  assert.deepEqual([...classes].sort(), ["backward-incompatible", "data-dependent", "destructive", "non-transactional"]);
  assert.ok(!all.findings.some((f) => f.revision === "b2"), "the additive migration has no findings");
  assert.ok(all.ignored.some((f) => f.revision === "h8"), "lint-ignore accepts h8's finding");
  const c3 = all.findings.find((f) => f.revision === "c3");
  assert.equal(c3.class, "destructive");
  assert.match(c3.file, /c3_destructive\.sql$/);
  assert.ok(c3.line > 0);
  // Upgraded to e5: the default range is what is left.
  await m.upgrade("e5");
  assert.deepEqual((await m.lint()).revisions, ["f6", "g7", "h8"]);
  assert.deepEqual((await m.lint("b2:b2")).findings, []);
  await assert.rejects(m.lint("nope:heads"), (e) => e instanceof MigrationError && e.code === "UNKNOWN_REVISION");
  await assert.rejects(m.lint(42), { code: "USAGE" });
  m.close();
});

test("the check at head reads the default version table with the wasm's own query, baked in at build time: no call into the wasm", async () => {
  const { rowsSql } = await import(`${pkg}/heads.js`);
  const glue = await import(`${pkg}/athanor_adapter.js`);
  const { readFileSync } = await import("node:fs");
  glue.initSync({ module: readFileSync(join(pkg, "athanor_adapter_bg.wasm")) });
  const untouchable = { versionRowsSql: () => assert.fail("the wasm was called") };
  assert.equal(rowsSql(untouchable, null), glue.versionRowsSql(null));
  assert.equal(rowsSql(untouchable, undefined), glue.versionRowsSql(null));
  // Another table's query still comes from the wasm.
  assert.equal(rowsSql(glue, "my_versions"), glue.versionRowsSql("my_versions"));
  assert.notEqual(rowsSql(glue, "my_versions"), rowsSql(untouchable, null));
});
