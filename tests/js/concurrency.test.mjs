// Real processes on one database file, checked with Debian's sqlite3 shell: the npm CLI
// killed with SIGKILL at random moments of a long upgrade, in rollback-journal and in
// WAL mode; and eight migrators at once, native and npm CLIs mixed, on a fresh file and
// on an existing one. The npm CLI opens files through node:sqlite, SQLite's own locks,
// so it runs on a Node that has it (the machine's, or the pinned Node 22).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqliteNode } from "./lib/node-path.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const native = process.env.ATHANOR_BIN ?? join(root, "target/debug/athanor");
const N = 60;
const hex = (i) => i.toString(16).padStart(12, "0");
let work, dir, node;

before(() => {
  node = sqliteNode();
  execFileSync("cargo", ["build", "--quiet", "--bin", "athanor"], { cwd: root, stdio: "inherit" });
  work = mkdtempSync(join(tmpdir(), "athanor-concurrency-"));
  dir = join(work, "migrations");
  mkdirSync(dir);
  for (let i = 0; i < N; i++) {
    // Enough work per step that a kill lands mid-transaction, and a log row per run.
    const up = [
      `CREATE TABLE IF NOT EXISTS log (rev TEXT NOT NULL);`,
      `CREATE TABLE t_${i} (id INTEGER PRIMARY KEY, v TEXT);`,
      `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) INSERT INTO t_${i} (v) SELECT hex(randomblob(64)) FROM n;`,
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

/** The schema agrees with the version table (revision k applied <=> t_0..t_k exist),
 * and each applied migration ran once. Returns how many are applied. */
function assertConsistent(db) {
  assert.equal(sqlite(db, "PRAGMA integrity_check"), "ok");
  const hasVersion = sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'") === "1";
  const rows = hasVersion ? sqlite(db, "SELECT version_num FROM alembic_version").split("\n").filter(Boolean) : [];
  assert.ok(rows.length <= 1, `one head at most, got ${rows}`);
  const applied = rows.length ? parseInt(rows[0], 16) + 1 : 0;
  const tables = Number(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 't\\_%' ESCAPE '\\'"));
  assert.equal(tables, applied, `version table says ${applied} applied, schema has ${tables} step tables`);
  if (applied) assert.equal(sqlite(db, "SELECT count(*) FROM log"), String(applied), "each migration logged exactly once");
  return applied;
}

const npmCli = (args) => [node, [join(pkg, "cli.cjs"), "--dir", dir, ...args]];
const nativeCli = (args) => [native, ["--dir", dir, ...args]];

/** Runs to the end: exit status and stderr. */
function start([cmd, args]) {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d) => (err += d));
    c.on("close", (status) => resolve({ status, err }));
  });
}

function removeDb(db) {
  for (const suffix of ["", "-journal", "-wal", "-shm"]) rmSync(db + suffix, { force: true });
}

/** A database file in `mode`, empty but for its header (WAL is a setting of the file). */
function fresh(db, mode) {
  removeDb(db);
  if (mode === "wal") assert.equal(sqlite(db, "PRAGMA journal_mode = WAL"), "wal");
}

for (const mode of ["rollback", "wal"]) {
  test(`npm CLI killed with SIGKILL at 50 random moments (${mode} journal): schema and version table always agree, and a rerun reaches head`, async () => {
    const db = join(work, `crash-${mode}.db`);
    fresh(db, mode);
    const t = performance.now();
    const warm = spawnSync(...npmCli(["--db", join(work, `warm-${mode}.db`), "upgrade", "head"]), { encoding: "utf8" });
    assert.equal(warm.status, 0, warm.stderr);
    const full = performance.now() - t;
    const seen = new Set();
    for (let round = 0; round < 50; round++) {
      const args = ["--db", db, ...(round % 2 ? ["--transaction-per-migration"] : []), "upgrade", "head"];
      const child = spawn(...npmCli(args), { stdio: "ignore" });
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
      if (mode === "wal") assert.equal(sqlite(db, "PRAGMA journal_mode"), "wal", "the file stays in WAL mode");
      if (applied === N) fresh(db, mode); // finished before the kill: the next kill lands mid-run again
    }
    assert.ok(seen.size >= 3, `kills should land at different points, saw ${[...seen]}`);
    const r = await start(npmCli(["--db", db, "upgrade", "head"]));
    assert.equal(r.status, 0, r.err);
    assert.equal(assertConsistent(db), N);
  });
}

for (const existing of [false, true]) {
  test(`8 migrators at once, native and npm CLIs mixed, on ${existing ? "an existing" : "a fresh"} file, 20 rounds: each migration applied once`, async () => {
    const db = join(work, `eight-${existing}.db`);
    for (let round = 0; round < 20; round++) {
      removeDb(db);
      if (existing) {
        const r = await start(nativeCli(["--db", db, "upgrade", hex(N / 2 - 1)]));
        assert.equal(r.status, 0, r.err);
      }
      // Alternate one transaction for the run and one per migration; the WAL rounds
      // have an existing file to be WAL.
      const perMigration = round % 2 ? ["--transaction-per-migration"] : [];
      if (existing && round % 4 >= 2) assert.equal(sqlite(db, "PRAGMA journal_mode = WAL"), "wal");
      const args = ["--db", db, "--busy-timeout", "60000", ...perMigration, "upgrade", "head"];
      const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => start(i % 2 ? npmCli(args) : nativeCli(args))));
      for (const r of runs) {
        assert.ok(r.status === 0 || /\[LOCKED\]/.test(r.err), `round ${round}: status ${r.status}: ${r.err.trim().split("\n").at(-1)}`);
      }
      assert.ok(runs.some((r) => r.status === 0), `round ${round}: at least one finishes`);
      assert.equal(assertConsistent(db), N, `round ${round}`);
    }
  });
}
