// A database file shared with other programs (issue 12): the npm CLI and the Node JS API
// open it through node:sqlite, so SQLite's own locks hold between them and the sqlite3
// shell, Python's sqlite3 and better-sqlite3, each in its own real process. A foreign
// write transaction makes athanor wait up to its busy timeout, then fail LOCKED having
// written nothing; released within the timeout, athanor goes on to head; nothing of
// either side is lost. WAL databases migrate with other connections open. This file
// runs on the machine's Node (better-sqlite3 is built for it); athanor runs under a
// Node with node:sqlite (this one, or the pinned 22).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { installed } from "./lib/npm-cache.mjs";
import { hasNodeSqlite, sqliteNode, nodeBinary, NODE_22, NODE_24 } from "./lib/node.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const cli = join(pkg, "cli.cjs");
let work, migrations;

const rev = (id, revises, up) => `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n`;

before(() => {
  work = mkdtempSync(join(tmpdir(), "athanor-shared-"));
  migrations = join(work, "migrations");
  mkdirSync(migrations);
  writeFileSync(join(migrations, "a1_a.sql"), rev("a1", "", "CREATE TABLE a (x);\nINSERT INTO t VALUES ('athanor a1');"));
  writeFileSync(join(migrations, "a2_b.sql"), rev("a2", "a1", "CREATE TABLE b (x);\nINSERT INTO t VALUES ('athanor a2');"));
});
after(() => rmSync(work, { recursive: true, force: true }));

const sqlite3 = (db, sql) => execFileSync("sqlite3", [db, sql], { encoding: "utf8" }).trim();

let n = 0;
/** A fresh database the app already uses: table t with one row. */
function appDb({ wal = false } = {}) {
  const db = join(work, `app${n++}.db`);
  sqlite3(db, `${wal ? "PRAGMA journal_mode = wal;" : ""} CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('app');`);
  return db;
}

/** What the file holds: t's rows, the version table, athanor's tables a and b. */
function state(db) {
  const tables = sqlite3(db, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b', 'alembic_version') ORDER BY name)");
  const version = tables.includes("alembic_version") ? sqlite3(db, "SELECT version_num FROM alembic_version") : "";
  return { rows: sqlite3(db, "SELECT group_concat(v, ',') FROM (SELECT v FROM t ORDER BY rowid)"), tables, version, integrity: sqlite3(db, "PRAGMA integrity_check") };
}

// The holders: each opens the file in its own process, begins a write transaction
// with an insert, and commits when it reads a line on stdin.
const PYTHON = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO t VALUES ('python')")
print("held", flush=True)
sys.stdin.readline()
c.execute("COMMIT")
print("committed", flush=True)
`;
const BETTER = `
const Database = require(process.argv[2]);
const db = new Database(process.argv[1]);
db.exec("BEGIN IMMEDIATE");
db.prepare("INSERT INTO t VALUES ('better-sqlite3')").run();
console.log("held");
process.stdin.once("data", () => { db.exec("COMMIT"); console.log("committed"); process.exit(0); });
`;
const betterSqlite3Dir = () => join(installed("better-sqlite3@12.11.1", { scripts: true }), "node_modules", "better-sqlite3");

const HOLDERS = {
  // The shell reads its statements from stdin: the transaction stays open until COMMIT.
  sqlite3: (db) => ({ child: spawn("sqlite3", [db]), begin: "BEGIN IMMEDIATE;\nINSERT INTO t VALUES ('sqlite3');\n", commit: "COMMIT;\n.quit\n", row: "sqlite3" }),
  python: (db) => ({ child: spawn("python3", ["-c", PYTHON, db]), begin: "", commit: "commit\n", row: "python" }),
  // On the machine's Node: better-sqlite3's native build is for its ABI.
  "better-sqlite3": (db) => ({ child: spawn(process.execPath, ["-e", BETTER, db, betterSqlite3Dir()]), begin: "", commit: "commit\n", row: "better-sqlite3" }),
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a holder and resolves once its write lock is visible to another process. */
async function hold(kind, db) {
  const h = HOLDERS[kind](db);
  let out = "";
  h.child.stdout.on("data", (d) => (out += d));
  h.child.stderr.on("data", (d) => (out += d));
  h.exited = new Promise((resolve) => h.child.on("exit", (status) => resolve({ status, out })));
  if (h.begin) h.child.stdin.write(h.begin);
  const deadline = Date.now() + 20_000;
  // Locked when a write of our own fails at once with "database is locked".
  while (spawnSync("sqlite3", ["-cmd", ".timeout 0", db, "BEGIN IMMEDIATE; ROLLBACK;"], { encoding: "utf8" }).status === 0) {
    assert.ok(Date.now() < deadline, `${kind} never took its lock: ${out}`);
    await sleep(20);
  }
  h.release = async () => {
    h.child.stdin.write(h.commit);
    const r = await h.exited;
    assert.equal(r.status, 0, `${kind}: ${r.out}`);
  };
  return h;
}

/** The npm CLI or the JS API (each a process on a Node with node:sqlite) upgrading `db`
 * to head, waiting `busy` ms for locks: `{ status, stdout, stderr, ms }`. */
const API_CHILD = `
const { openMigrator } = await import(process.argv[1]);
const [database, migrations, busy] = process.argv.slice(2);
try {
  const m = await openMigrator({ database, migrations, busyTimeout: Number(busy) });
  const r = await m.upgrade("head");
  m.close();
  console.log("upgraded " + r.steps.length);
} catch (e) {
  console.error("FAILED [" + e.code + "]: " + e.message);
  process.exitCode = 1;
}`;
const ATHANORS = {
  "npm CLI": (db, busy) => [sqliteNode(), [cli, "--dir", migrations, "--db", db, "--busy-timeout", String(busy), "upgrade", "head"]],
  "JS API": (db, busy) => [sqliteNode(), ["--input-type=module", "-e", API_CHILD, pathToFileURL(join(pkg, "node.js")).href, db, migrations, String(busy)]],
};

function athanor(which, db, busy) {
  const [exe, args] = ATHANORS[which](db, busy);
  const started = performance.now();
  const child = spawn(exe, args);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("exit", (status) => resolve({ status, stdout, stderr, ms: performance.now() - started })));
}

for (const kind of Object.keys(HOLDERS)) {
  for (const which of Object.keys(ATHANORS)) {
    test(`${which} against ${kind} holding a write transaction: waits the busy timeout, fails LOCKED, writes nothing; the other commits`, async () => {
      const db = appDb();
      const h = await hold(kind, db);
      const r = await athanor(which, db, 600);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /FAILED \[LOCKED\]/);
      assert.ok(r.ms >= 550, `gave up after ${r.ms} ms, before its 600 ms busy timeout`);
      await h.release();
      // The holder's row committed; athanor wrote nothing (no version table, no a, no b).
      assert.deepEqual(state(db), { rows: `app,${h.row}`, tables: "", version: "", integrity: "ok" });
      // And once the file is free, athanor reaches head with nothing of the app lost.
      const again = await athanor(which, db, 600);
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual(state(db), { rows: `app,${h.row},athanor a1,athanor a2`, tables: "a,alembic_version,b", version: "a2", integrity: "ok" });
    });

    test(`${which} against ${kind} releasing within the busy timeout: athanor waits, then reaches head`, async () => {
      const db = appDb();
      const h = await hold(kind, db);
      const run = athanor(which, db, 20_000);
      await sleep(700);
      await h.release();
      const r = await run;
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.ms >= 650, `finished after ${r.ms} ms: it cannot have waited for the holder`);
      assert.deepEqual(state(db), { rows: `app,${h.row},athanor a1,athanor a2`, tables: "a,alembic_version,b", version: "a2", integrity: "ok" });
    });
  }
}

// Python keeps a reader and a writer connection open (idle, outside transactions) the
// whole time; after athanor's upgrade both see the new schema and the writer uses it.
const WAL_APP = `
import sqlite3, sys
reader = sqlite3.connect(sys.argv[1], isolation_level=None)
writer = sqlite3.connect(sys.argv[1], isolation_level=None)
reader.execute("SELECT count(*) FROM t").fetchall()
writer.execute("INSERT INTO t VALUES ('before')")
print("open", flush=True)
sys.stdin.readline()
writer.execute("INSERT INTO b VALUES ('after')")
seen = [r[0] for r in reader.execute("SELECT name FROM sqlite_master WHERE name IN ('a', 'b') ORDER BY name")]
print(",".join(seen), reader.execute("SELECT count(*) FROM b").fetchone()[0], reader.execute("PRAGMA journal_mode").fetchone()[0], flush=True)
`;

for (const which of Object.keys(ATHANORS)) {
  test(`${which} upgrades a WAL database while Python holds a reader and a writer connection open`, async () => {
    const db = appDb({ wal: true });
    const app = spawn("python3", ["-c", WAL_APP, db]);
    let out = "";
    app.stdout.on("data", (d) => (out += d));
    app.stderr.on("data", (d) => (out += d));
    const exited = new Promise((resolve) => app.on("exit", resolve));
    while (!out.includes("open")) await sleep(10);
    const r = await athanor(which, db, 5000);
    assert.equal(r.status, 0, r.stderr);
    app.stdin.write("go\n");
    assert.equal(await exited, 0, out);
    assert.equal(out.trim().split("\n").at(-1), "a,b 1 wal");
    assert.deepEqual(state(db), { rows: "app,before,athanor a1,athanor a2", tables: "a,alembic_version,b", version: "a2", integrity: "ok" });
  });
}

test("better-sqlite3 connections open in this process on a WAL file see the schema the npm CLI and the JS API migrate", async () => {
  const Database = createRequire(join(betterSqlite3Dir(), "package.json"))("better-sqlite3");
  for (const which of Object.keys(ATHANORS)) {
    const db = appDb({ wal: true });
    const reader = new Database(db, { readonly: true });
    const writer = new Database(db);
    assert.equal(reader.prepare("SELECT count(*) AS n FROM t").get().n, 1);
    writer.prepare("INSERT INTO t VALUES ('before')").run();
    const r = await athanor(which, db, 5000);
    assert.equal(r.status, 0, r.stderr);
    writer.prepare("INSERT INTO a VALUES (1)").run();
    assert.deepEqual(reader.prepare("SELECT name FROM sqlite_master WHERE name IN ('a', 'b') ORDER BY name").pluck().all(), ["a", "b"]);
    assert.equal(reader.prepare("SELECT count(*) FROM a").pluck().get(), 1);
    reader.close();
    writer.close();
    assert.deepEqual(state(db), { rows: "app,before,athanor a1,athanor a2", tables: "a,alembic_version,b", version: "a2", integrity: "ok" });
  }
});

for (const spec of [NODE_22, NODE_24]) {
  test(`${spec}: the npm CLI's output is Alembic's alone, no ExperimentalWarning (and the JS API prints nothing)`, () => {
    const node = nodeBinary(spec);
    const db = appDb();
    const up = spawnSync(node, [cli, "--dir", migrations, "--db", db, "upgrade", "head"], { encoding: "utf8" });
    assert.deepEqual(
      { status: up.status, stdout: up.stdout, stderr: up.stderr },
      { status: 0, stdout: "", stderr: "INFO  [athanor] Running upgrade  -> a1, a1\nINFO  [athanor] Running upgrade a1 -> a2, a2\n" },
    );
    const current = spawnSync(node, [cli, "--dir", migrations, "--db", db, "current"], { encoding: "utf8" });
    assert.deepEqual([current.stdout, current.stderr], ["a2 (head)\n", ""]);
    const api = spawnSync(node, ["--input-type=module", "-e", API_CHILD, pathToFileURL(join(pkg, "node.js")).href, appDb(), migrations, "5000"], { encoding: "utf8" });
    assert.deepEqual([api.status, api.stdout, api.stderr], [0, "upgraded 2\n", ""]);
  });
}

test("a Node without node:sqlite: a coded error that says what to do, never a path around SQLite's locks", { skip: hasNodeSqlite && "this Node has node:sqlite (the machine's Node 20 has not)" }, async () => {
  const db = join(work, "old-node.db");
  const r = spawnSync(process.execPath, [cli, "--dir", migrations, "--db", db, "upgrade", "head"], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    `FAILED [NODE_SQLITE_UNAVAILABLE]: node:sqlite is not available in this Node (Node ${process.version} has no node:sqlite): athanor opens database files through it, so that other programs' locks on the file are honoured. Run Node 22.13 or later (24 recommended), or, from the JS API, hand athanor the app's connection: openMigrator({ adapter: betterSqlite3(db), migrations })\n`,
  );
  assert.equal(existsSync(db), false, "no file created");
  // Commands without a database still run.
  assert.equal(spawnSync(process.execPath, [cli, "--dir", migrations, "heads"], { encoding: "utf8" }).stdout, "a2 (head)\n");
  // The JS API: the same code; memory and an adapter still work.
  const { openMigrator, betterSqlite3 } = await import(pathToFileURL(join(pkg, "node.js")).href);
  await assert.rejects(openMigrator({ database: db, migrations }), (e) => {
    assert.equal(e.code, "NODE_SQLITE_UNAVAILABLE");
    assert.match(e.message, /betterSqlite3\(db\)/);
    assert.equal(e.data.reason, `Node ${process.version} has no node:sqlite`);
    return true;
  });
  assert.equal(existsSync(db), false);
  const Database = createRequire(join(betterSqlite3Dir(), "package.json"))("better-sqlite3");
  const conn = new Database(appDb());
  const m = await openMigrator({ adapter: betterSqlite3(conn), migrations });
  assert.equal((await m.upgrade("head")).steps.length, 2);
  // query and exec run on the app's connection.
  assert.equal(await m.exec("INSERT INTO a VALUES (?)", [7]), 1);
  assert.deepEqual(await m.query("SELECT x, typeof(x) AS t, 9007199254740993 AS big FROM a"), [{ x: 7, t: "integer", big: 9007199254740993n }]);
  await assert.rejects(m.query("SELECT ?; SELECT 2", [1]), { code: "USAGE" });
  m.close();
  conn.close();
});
