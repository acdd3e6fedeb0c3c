// The npm CLI on real files: killed with SIGKILL at random moments of a long upgrade,
// and two processes upgrading one file at once. Checked with Debian's sqlite3 shell.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqliteTest } from "./lib/node.mjs";

// The npm CLI and the Node API open files through node:sqlite: under an older Node,
// the whole file runs under the pinned Node 22.
const test = sqliteTest(import.meta.url);

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const cli = join(pkg, "cli.mjs");
const N = 120;
const hex = (i) => i.toString(16).padStart(12, "0");
let work, dir;

before(() => {
  work = mkdtempSync(join(tmpdir(), "athanor-durability-"));
  dir = join(work, "migrations");
  mkdirSync(dir);
  for (let i = 0; i < N; i++) {
    // Enough work per step that a kill lands mid-transaction, and a log row per run.
    const up = [
      `CREATE TABLE IF NOT EXISTS log (rev TEXT NOT NULL);`,
      `CREATE TABLE t_${i} (id INTEGER PRIMARY KEY, v TEXT);`,
      `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000) INSERT INTO t_${i} (v) SELECT hex(randomblob(64)) FROM n;`,
      `INSERT INTO log VALUES ('${hex(i)}');`,
    ].join("\n");
    writeFileSync(
      join(dir, `${hex(i)}_step.sql`),
      `-- Revision ID: ${hex(i)}\n-- Revises: ${i ? hex(i - 1) : ""}\n-- Message: step ${i}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\nDROP TABLE t_${i};\n`,
    );
  }
});

after(() => rmSync(work, { recursive: true, force: true }));

const sqlite = (db, sql) => execFileSync("sqlite3", [db, sql], { encoding: "utf8" }).trim();

/** The schema agrees with the version table: revision k applied <=> t_0..t_k exist. */
function assertConsistent(db) {
  assert.equal(sqlite(db, "PRAGMA integrity_check"), "ok");
  const hasVersion = sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'") === "1";
  const rows = hasVersion ? sqlite(db, "SELECT version_num FROM alembic_version").split("\n").filter(Boolean) : [];
  assert.ok(rows.length <= 1, `one head at most, got ${rows}`);
  const applied = rows.length ? parseInt(rows[0], 16) + 1 : 0;
  const tables = Number(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 't\\_%' ESCAPE '\\'"));
  assert.equal(tables, applied, `version table says ${applied} applied, schema has ${tables} step tables`);
  if (applied) {
    assert.equal(sqlite(db, "SELECT count(*) FROM log"), String(applied), "each migration logged exactly once");
  }
  return applied;
}

function run(args) {
  return spawnSync(process.execPath, [cli, "--dir", dir, ...args], { encoding: "utf8" });
}

function timedRun(args) {
  const t = performance.now();
  const r = run(args);
  assert.equal(r.status, 0, r.stderr);
  return performance.now() - t;
}

test("SIGKILL at random moments never leaves schema and version table disagreeing", async () => {
  const db = join(work, "crash.db");
  // How long a whole run takes here, so the kills can be spread over all of it.
  const full = timedRun(["--db", join(work, "warmup.db"), "--transaction-per-migration", "upgrade", "head"]);
  const seen = new Set();
  for (let round = 0; round < 50; round++) {
    // Alternate one transaction for the run and one per migration.
    const args = ["--db", db, ...(round % 2 ? ["--transaction-per-migration"] : []), "upgrade", "head"];
    const child = spawn(process.execPath, [cli, "--dir", dir, ...args], { stdio: "ignore" });
    const delay = Math.floor(Math.random() * full * 1.1);
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), delay);
      child.on("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const applied = existsSync(db) ? assertConsistent(db) : 0;
    seen.add(applied);
    if (applied === N) {
      // Finished before the kill: start over, so the next kill lands mid-run again.
      rmSync(db, { force: true });
      rmSync(`${db}-journal`, { force: true });
    }
  }
  // The kills landed at different points: several distinct states were observed.
  assert.ok(seen.size >= 3, `kills should land at different points, saw ${[...seen]}`);
  // And the database still upgrades to the end afterwards.
  const r = run(["--db", db, "upgrade", "head"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(assertConsistent(db), N);
});

test("two processes upgrading one file at once apply each migration once", async () => {
  for (const mode of [[], ["--transaction-per-migration"]]) {
    const db = join(work, `race${mode.length}.db`);
    const start = () =>
      new Promise((resolve) => {
        const c = spawn(process.execPath, [cli, "--dir", dir, "--db", db, ...mode, "upgrade", "head"], { stdio: ["ignore", "pipe", "pipe"] });
        let err = "";
        c.stderr.on("data", (d) => (err += d));
        c.on("exit", (status) => resolve({ status, err }));
      });
    const results = await Promise.all([start(), start()]);
    for (const r of results) {
      assert.ok(r.status === 0 || /FAILED \[LOCKED\]/.test(r.err), `status ${r.status}: ${r.err.split("\n").at(-2)}`);
    }
    assert.ok(results.some((r) => r.status === 0), "at least one finishes");
    assert.equal(assertConsistent(db), N);
  }
});
