// Bad input and faults through the npm package's CLI (issue 11): nothing lost, nothing
// hangs, nothing written outside its place. Where the native binary has the same case
// (tests/cli_faults.rs), both must answer alike.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readdirSync, existsSync, mkdirSync, symlinkSync, chmodSync, realpathSync } from "node:fs";
import { tmpdir, hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqliteTest } from "./lib/node.mjs";

// The npm CLI and the Node API open files through node:sqlite: under an older Node,
// the whole file runs under the pinned Node 22.
const test = sqliteTest(import.meta.url);

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const native = process.env.ATHANOR_BIN ?? join(root, "target/debug/athanor");
const npm = [process.execPath, join(pkg, "cli.cjs")];
const bin = [native];
let work;

before(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), "athanor-faults-")));
});
after(() => rmSync(work, { recursive: true, force: true }));

const migration = (id, parent, up) => `-- Revision ID: ${id}\n-- Revises: ${parent}\n-- Message: ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n`;

let n = 0;
/** A project with one migration (a1 creates table t) in m/. */
function project() {
  const p = join(work, `p${n++}`);
  mkdirSync(join(p, "m"), { recursive: true });
  writeFileSync(join(p, "m/a1_t.sql"), migration("a1", "", "CREATE TABLE t (id INTEGER);"));
  return p;
}

/** Runs a CLI; a run that blocks (reading a FIFO) is killed after 15 s and fails the test. */
function run(cmd, cwd, args, opts = {}) {
  const [exe, ...pre] = cmd;
  const r = spawnSync(exe, [...pre, ...args], { cwd, encoding: "utf8", timeout: 15_000, ...opts });
  assert.equal(r.signal, null, `athanor ${args.join(" ")} was killed: it hung`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same command in two copies of a project, one per CLI: same output. */
function both(setup, args) {
  const a = project();
  const b = project();
  setup(a);
  setup(b);
  const x = run(bin, a, args);
  const y = run(npm, b, args);
  assert.deepEqual({ ...y, stderr: y.stderr.replaceAll(b, "<P>") }, { ...x, stderr: x.stderr.replaceAll(a, "<P>") }, `athanor ${args.join(" ")}`);
  return { ...y, stderr: y.stderr.replaceAll(b, "<P>"), dir: b };
}

const mkfifo = (path) => execFileSync("mkfifo", [path]);

test("a failed first upgrade leaves no file behind, lock files included", () => {
  const p = project();
  writeFileSync(join(p, "m/a2_bad.sql"), migration("a2", "a1", "SELECT * FROM missing;"));
  const r = run(npm, p, ["--dir", "m", "--db", "x.db", "upgrade", "head"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /FAILED \[MIGRATION_FAILED\]/);
  assert.deepEqual(readdirSync(p), ["m"]);
});

test("FIFOs are refused with IO_ERROR naming them, not read (athanor.ini, a migration, schema.sql)", () => {
  let r = both((p) => mkfifo(join(p, "athanor.ini")), ["--dir", "m", "heads"]);
  assert.equal(r.stderr, "FAILED [IO_ERROR]: cannot read 'athanor.ini': it is a FIFO, not a regular file\n");
  r = both((p) => mkfifo(join(p, "m/a2_fifo.sql")), ["--dir", "m", "heads"]);
  assert.equal(r.stderr, "FAILED [IO_ERROR]: cannot read '<P>/m/a2_fifo.sql': it is a FIFO, not a regular file\n");
  r = both((p) => mkfifo(join(p, "schema.sql")), ["--dir", "m", "revision", "--autogenerate", "-m", "x"]);
  assert.equal(r.stderr, "FAILED [IO_ERROR]: cannot read 'schema.sql': it is a FIFO, not a regular file\n");
});

test("a symlinked migration is followed; a dangling one is refused", () => {
  const linked = (p) => {
    mkdirSync(join(p, "elsewhere"));
    writeFileSync(join(p, "elsewhere/a2.sql"), migration("a2", "a1", "CREATE TABLE u (id INTEGER);"));
    symlinkSync("../elsewhere/a2.sql", join(p, "m/a2_u.sql"));
  };
  let r = both(linked, ["--dir", "m", "--db", "x.db", "upgrade", "head"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Running upgrade a1 -> a2/);
  assert.equal(run(npm, r.dir, ["--dir", "m", "--db", "x.db", "current"]).stdout, "a2 (head)\n");
  r = both((p) => symlinkSync("../elsewhere/none.sql", join(p, "m/a2_gone.sql")), ["--dir", "m", "--db", "x.db", "upgrade", "head"]);
  assert.equal(r.stderr, "FAILED [IO_ERROR]: cannot read '<P>/m/a2_gone.sql': it is a symlink to nothing, not a regular file\n");
  assert.equal(existsSync(join(r.dir, "x.db")), false);
});

test("athanor.ini: a BOM is skipped; what would be misread is refused at its line, as natively", () => {
  const ini = (bytes) => (p) => writeFileSync(join(p, "athanor.ini"), bytes);
  const up = ["upgrade", "head"];
  let r = both(ini(Buffer.from("\ufeff[athanor]\ndir = m\ndb = app.db\n")), up);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(r.dir, "app.db")));
  for (const [text, line] of [
    ["[ athanor ]\ndir = m\ndb = app.db\n", 1],
    ["[athanor]\ndir = m # c\ndb = app.db\n", 2],
    ["[athanor]\ndir = m\ndb =\n", 3],
  ]) {
    r = both(ini(Buffer.from(text)), up);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^FAILED \\[PARSE_ERROR\\]: athanor.ini:${line}: `));
    assert.deepEqual(readdirSync(r.dir).sort(), ["athanor.ini", "m"], "nothing migrated");
  }
  // Not UTF-8: refused at its line, not read lossily.
  r = both(ini(Buffer.from([...Buffer.from("[athanor]\n# caf"), 0xe9, ...Buffer.from("\ndir = m\ndb = app.db\n")])), up);
  assert.equal(r.stderr, "FAILED [PARSE_ERROR]: athanor.ini:2: not UTF-8 text (byte 0xe9); save the file as UTF-8\n");
});

/** Runs the npm CLI as user nobody (root, which tests run as, may write anywhere). */
function asNobody(cwd, args, cmd = npm) {
  return run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...cmd], cwd, args);
}
const setprivWorks = (() => {
  try {
    return process.getuid() === 0 && spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"]).status === 0;
  } catch {
    return false;
  }
})();

test("in a directory it cannot write, the npm CLI still reads the database", { skip: !setprivWorks && "needs root and setpriv" }, () => {
  const p = project();
  assert.equal(run(npm, p, ["--dir", "m", "--db", "x.db", "upgrade", "head"]).status, 0);
  writeFileSync(join(p, "m/a2_u.sql"), migration("a2", "a1", "CREATE TABLE u (id INTEGER);"));
  for (const d of [work, p, join(p, "m")]) chmodSync(d, 0o755);
  let r = asNobody(p, ["--dir", "m", "--db", "x.db", "current"]);
  assert.deepEqual(r, { status: 0, stdout: "a1\n", stderr: "" });
  r = asNobody(p, ["--dir", "m", "--db", "x.db", "history", "--indicate-current"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /a1 \(current\)/);
  // Writing cannot work (the file is root's): SQLite says so, and nothing is left behind.
  r = asNobody(p, ["--dir", "m", "--db", "x.db", "upgrade", "head"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /readonly database/);
  // A database file anyone may write, in a directory nobody cannot write: no journal.
  // node:sqlite is SQLite's own: the words are the native CLI's.
  chmodSync(join(p, "x.db"), 0o666);
  r = asNobody(p, ["--dir", "m", "--db", "x.db", "upgrade", "head"]);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.endsWith("attempt to write a readonly database (statement: CREATE TABLE u (id INTEGER);)\n"), r.stderr);
  assert.deepEqual(asNobody(p, ["--dir", "m", "--db", "x.db", "upgrade", "head"], bin), r);
  assert.deepEqual(readdirSync(p).sort(), ["m", "x.db"]);
  assert.equal(run(npm, p, ["--dir", "m", "--db", "x.db", "current"]).stdout, "a1\n");
});

test("the Node file VFS (vfs: \"athanor-node\"): a lock entry or mutex of pid 0 (forged, or torn) is stale, not LOCKED forever", () => {
  // Only the JS API's explicit option opens files with it now (the CLI is on node:sqlite).
  const script = `const { openMigrator } = await import(${JSON.stringify(join(pkg, "node.js"))});
    try { const m = await openMigrator({ database: "x.db", migrations: "m", vfs: "athanor-node" }); await m.upgrade("head"); m.close(); }
    catch (e) { console.error("FAILED [" + e.code + "]: " + e.message); process.exitCode = 1; }`;
  const vfsUpgrade = (p) => run([process.execPath, "--input-type=module", "-e"], p, [script]);
  for (const [file, line] of [["x.db-locks", "R"], ["x.db-locks", "X"], ["x.db-lock", "M"]]) {
    const p = project();
    assert.equal(vfsUpgrade(p).status, 0);
    writeFileSync(join(p, "m/a2_u.sql"), migration("a2", "a1", "CREATE TABLE u (id INTEGER);"));
    writeFileSync(join(p, file), `${line}\t0\tforged\t${hostname()}\n`);
    const start = Date.now();
    const r = vfsUpgrade(p);
    assert.equal(r.status, 0, `${file} ${line}: ${r.stderr}`);
    assert.ok(Date.now() - start < 4000, "not waited out");
    assert.deepEqual(readdirSync(p).sort(), ["m", "x.db"]);
  }
});

/** A 256 KiB tmpfs for `fn(dir)`, or a skip where mounting is not allowed. */
function withSmallDisk(t, fn) {
  const dir = join(work, `disk${n++}`);
  mkdirSync(dir);
  if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir]).status !== 0) return t.skip("cannot mount a tmpfs here");
  try {
    fn(dir);
  } finally {
    execFileSync("umount", [dir]);
  }
}

test("a full disk is reported as full, by both CLIs", (t) => {
  withSmallDisk(t, (disk) => {
    const p = project();
    writeFileSync(join(p, "m/a2_big.sql"), migration("a2", "a1", "CREATE TABLE big (b BLOB);\nINSERT INTO big VALUES (zeroblob(1000000));"));
    for (const [cmd, db] of [[bin, "native.db"], [npm, "npm.db"]]) {
      // a1 fits, a2 does not: the file exists, and the journal of a2's writes fills the disk
      assert.equal(run(cmd, p, ["--dir", "m", "--db", join(disk, db), "upgrade", "a1"]).status, 0);
      const r = run(cmd, p, ["--dir", "m", "--db", join(disk, db), "upgrade", "head"]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /database or disk is full/, `${cmd[0]}: ${r.stderr}`);
      assert.equal(run(cmd, p, ["--dir", "m", "--db", join(disk, db), "current"]).stdout, "a1\n");
      // And from nothing: the file it created is removed again.
      const fresh = run(cmd, p, ["--dir", "m", "--db", join(disk, `fresh-${db}`), "upgrade", "head"]);
      assert.match(fresh.stderr, /database or disk is full/, `${cmd[0]}: ${fresh.stderr}`);
      assert.equal(existsSync(join(disk, `fresh-${db}`)), false);
    }
  });
});

test("the Node API refuses a FIFO among the migrations rather than blocking on it", () => {
  const p = project();
  mkfifo(join(p, "m/a2_fifo.sql"));
  // In a child: a read that blocks would hang this process too.
  const script = `const { openMigrator } = await import(${JSON.stringify(join(pkg, "node.js"))});
    try { await openMigrator({ migrations: "m" }); console.log("opened"); } catch (e) { console.log(e.code + ": " + e.message); }`;
  const r = run([process.execPath, "--input-type=module", "-e"], p, [script]);
  assert.equal(r.stdout, `IO_ERROR: cannot read '${join("m", "a2_fifo.sql")}': it is a FIFO, not a regular file\n`, r.stderr);
});

const burn = (rows) => `CREATE TABLE burn AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rows}) SELECT count(*) AS n FROM c;`;

test("npm migrators racing to create a database: the losers fail LOCKED and leave the winner's file whole", async () => {
  // Calibrate: the winner's upgrade must outlast the losers' 5 s wait for the lock.
  const c = project();
  writeFileSync(join(c, "m/a2_burn.sql"), migration("a2", "a1", burn(2_000_000)));
  const start = Date.now();
  assert.equal(run(npm, c, ["--dir", "m", "--db", "x.db", "upgrade", "head"]).status, 0);
  const rows = Math.round((2_000_000 * 9000) / (Date.now() - start));

  const p = project();
  writeFileSync(join(p, "m/a1_t.sql"), migration("a1", "", "CREATE TABLE log (rev TEXT);\nINSERT INTO log VALUES ('a1');"));
  writeFileSync(join(p, "m/a2_burn.sql"), migration("a2", "a1", `${burn(rows)}\nINSERT INTO log VALUES ('a2');`));
  const { spawn } = await import("node:child_process");
  const runs = await Promise.all(
    Array.from({ length: 4 }, () => new Promise((done) => {
      const child = spawn(npm[0], [...npm.slice(1), "--dir", "m", "--db", "x.db", "upgrade", "head"], { cwd: p });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (status) => done({ status, stderr }));
    })),
  );
  assert.equal(runs.filter((r) => r.status === 0).length, 1, JSON.stringify(runs, null, 1));
  for (const r of runs.filter((r) => r.status !== 0)) assert.match(r.stderr, /FAILED \[LOCKED\]/);
  const { openMigrator } = await import(join(pkg, "node.js"));
  const m = await openMigrator({ database: join(p, "x.db"), migrations: join(p, "m") });
  assert.deepEqual(await m.current(), ["a2"]);
  assert.deepEqual(await m.query("PRAGMA integrity_check"), [{ integrity_check: "ok" }]);
  assert.deepEqual((await m.query("SELECT rev FROM log ORDER BY rowid")).map((r) => r.rev), ["a1", "a2"]);
  await m.close();
  assert.deepEqual(readdirSync(p).sort(), ["m", "x.db"]);
});

test("a connection whose database file was removed while it was open writes nothing and says so", async () => {
  const { openMigrator } = await import(join(pkg, "node.js"));
  const p = project();
  assert.equal(run(npm, p, ["--dir", "m", "--db", "x.db", "upgrade", "head"]).status, 0);
  writeFileSync(join(p, "m/a2_u.sql"), migration("a2", "a1", "CREATE TABLE u (id INTEGER);"));
  const m = await openMigrator({ database: join(p, "x.db"), migrations: join(p, "m") });
  assert.deepEqual(await m.current(), ["a1"]);
  rmSync(join(p, "x.db"));
  await assert.rejects(m.upgrade("head"), (e) => {
    // SQLite's words (the unix VFS's SQLITE_READONLY_DBMOVED) at the first write.
    assert.equal(e.code, "MIGRATION_FAILED");
    assert.equal(e.data.sqliteMessage, "attempt to write a readonly database");
    return true;
  });
  m.close();
  assert.deepEqual(readdirSync(p).sort(), ["m"]);
});
