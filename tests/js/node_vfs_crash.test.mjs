// The "athanor-node" VFS (kept behind the explicit `vfs: "athanor-node"` option: it needs
// the file to itself) across processes, with the built package (pkg/): migrators in
// separate processes never interleave their writes, and a process killed in the middle
// of a migration leaves a database the next one recovers (hot journal rolled back,
// the dead process's locks broken). The sqlite3 shell checks every result.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const entry = pathToFileURL(join(pkg, "node.js")).href;
const { openMigrator } = await import(entry);

const file = (id, revises, up) =>
  `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: step ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n`;

const sqlite3 = (db, sql) => execFileSync("/usr/bin/sqlite3", [db, sql], { encoding: "utf8" });

// One migrator in its own process: upgrades, prints { ok, steps } or { ok: false, code }.
const CHILD = `
const { openMigrator } = await import(process.argv[1]);
const { database, migrations } = JSON.parse(process.argv[2]);
try {
  const m = await openMigrator({ database, migrations, vfs: "athanor-node" });
  const r = await m.upgrade("heads");
  m.close();
  process.stdout.write(JSON.stringify({ ok: true, steps: r.steps.length }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }));
}`;

function runChild(args) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, entry, JSON.stringify(args)]);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => process.stderr.write(d));
  const done = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, out })));
  return { child, done };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("migrators in four processes apply each migration exactly once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "athanor-vfs-"));
  const db = join(dir, "shared.db");
  const migrations = {
    "a.sql": file("aaaa0001", "", "CREATE TABLE log (rev TEXT);\nCREATE TABLE data (x BLOB);"),
    // Long enough that the others arrive while it runs, short of the 5 s busy timeout.
    "b.sql": file("bbbb0002", "aaaa0001", "INSERT INTO log VALUES ('b');\nINSERT INTO data WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) SELECT randomblob(100) FROM n;"),
    "c.sql": file("cccc0003", "bbbb0002", "INSERT INTO log VALUES ('c');"),
  };
  const runs = await Promise.all([1, 2, 3, 4].map(() => runChild({ database: db, migrations }).done));
  const results = runs.map((r) => JSON.parse(r.out));
  for (const r of results) assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(results.reduce((n, r) => n + r.steps, 0), 3, JSON.stringify(results));
  assert.equal(
    sqlite3(db, "PRAGMA integrity_check; SELECT group_concat(rev) FROM log; SELECT count(*) FROM data; SELECT version_num FROM alembic_version;"),
    "ok\nb,c\n50000\ncccc0003\n",
  );
  assert.ok(!existsSync(`${db}-journal`) && !existsSync(`${db}-locks`) && !existsSync(`${db}-lock`));
  rmSync(dir, { recursive: true });
});

test("a migrator killed mid-transaction leaves a database the next one recovers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "athanor-vfs-"));
  const db = join(dir, "crash.db");
  const base = {
    "a.sql": file("aaaa0001", "", "CREATE TABLE t (v INTEGER, pad BLOB);\nINSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) SELECT i, randomblob(1000) FROM n;"),
  };
  const m = await openMigrator({ database: db, migrations: base, vfs: "athanor-node" });
  await m.upgrade();
  m.close();

  // A small cache makes the UPDATE spill into the database file (under EXCLUSIVE,
  // originals in the journal); then the migration computes for as long as it is let.
  const migrations = {
    ...base,
    "b.sql": file("bbbb0002", "aaaa0001", "PRAGMA cache_size = 10;\nUPDATE t SET v = v + 1000000;\nCREATE TABLE burn AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000) SELECT count(*) AS c FROM n;"),
  };
  const { child, done } = runChild({ database: db, migrations });
  const locks = `${db}-locks`;
  const deadline = Date.now() + 30000;
  while (!(existsSync(`${db}-journal`) && existsSync(locks) && readFileSync(locks, "utf8").includes("X\t"))) {
    assert.ok(Date.now() < deadline, "the child never reached EXCLUSIVE");
    await sleep(20);
  }
  await sleep(100);
  child.kill("SIGKILL");
  assert.equal((await done).signal, "SIGKILL");
  // What it left: a hot journal, and its locks in the table.
  assert.ok(existsSync(`${db}-journal`));
  assert.match(readFileSync(locks, "utf8"), new RegExp(`X\\t${child.pid}\\t`));

  const r = await openMigrator({ database: db, migrations: base, vfs: "athanor-node" });
  assert.deepEqual(await r.current(), ["aaaa0001"]);
  r.close();
  assert.ok(!existsSync(`${db}-journal`), "hot journal not rolled back");
  assert.ok(!existsSync(locks), "dead process's locks not broken");
  assert.equal(
    sqlite3(db, "PRAGMA integrity_check; SELECT sum(v) FROM t; SELECT count(*) FROM sqlite_master WHERE name = 'burn'; SELECT version_num FROM alembic_version;"),
    `ok\n${(5000 * 5001) / 2}\n0\naaaa0001\n`,
  );
  rmSync(dir, { recursive: true });
});
