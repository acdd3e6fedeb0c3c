// The npm package's `athanor` bin against the native binary built from the same
// crate: every command, offline SQL and every error code give the same stdout, stderr
// and exit status (paths aside). The native binary's own suites (tests/*.rs,
// tests/alembic) pin those outputs to Alembic's; this pins the package to them.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, cpSync, rmSync, writeFileSync, readFileSync, readdirSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqliteTest } from "./lib/node.mjs";

// The npm CLI opens --db through node:sqlite: under an older Node, the whole file runs
// under the pinned Node 22.
const test = sqliteTest(import.meta.url);

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const native = process.env.ATHANOR_BIN ?? join(root, "target/debug/athanor");
const small = join(root, "tests/alembic/fixtures/small");
const golden = join(root, "tests/alembic/golden");
let work;

before(() => {
  work = mkdtempSync(join(tmpdir(), "athanor-cli-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** A fresh project: the small fixture (8 revisions, branches, labels, a merge, a dependency). */
function project(name) {
  const p = join(work, name);
  cpSync(small, join(p, "migrations"), { recursive: true });
  return p;
}

function run(cmd, cwd, args) {
  const [exe, ...pre] = cmd;
  const r = spawnSync(exe, [...pre, ...args], { cwd, encoding: "utf8" });
  const clean = (s) => s.replaceAll(cwd, "<P>");
  return { status: r.status, stdout: clean(r.stdout), stderr: clean(r.stderr) };
}

const npm = [process.execPath, join(pkg, "cli.cjs")];
const bin = [native];

/** Runs the same command lines in two identical projects, one per CLI, and compares. */
function same(name, lines, setup = () => {}) {
  const a = project(`${name}-native`);
  const b = project(`${name}-npm`);
  setup(a);
  setup(b);
  const outs = [];
  for (const args of lines) {
    const x = run(bin, a, args);
    const y = run(npm, b, args);
    assert.deepEqual(y, { ...x, stdout: x.stdout.replaceAll(a, "<P>"), stderr: x.stderr.replaceAll(a, "<P>") }, `athanor ${args.join(" ")}`);
    outs.push(y);
  }
  return outs;
}

const db = ["--db", "app.db"];

test("read-only commands print what the native CLI prints", () => {
  const outs = same("read", [
    ["heads"], ["heads", "--verbose"], ["heads", "--resolve-dependencies"], ["branches"], ["branches", "--verbose"],
    ["history"], ["history", "--verbose"], ["history", "-r", "8c41:e6a2"], ["history", "-r", "-2:"],
    ["show", "9d18"], ["show", "e6a2"], [...db, "current"], ["--help"], ["upgrade", "--help"], ["revision", "--help"],
  ]);
  // And what Alembic prints (goldens recorded from real Alembic).
  assert.equal(outs[0].stdout, readFileSync(join(golden, "heads.txt"), "utf8"));
  assert.equal(outs[3].stdout, readFileSync(join(golden, "branches.txt"), "utf8"));
  assert.equal(outs[5].stdout, readFileSync(join(golden, "history.txt"), "utf8"));
  assert.equal(outs[12].stdout.split("\n")[0].startsWith("usage: athanor"), true);
});

test("upgrade, current, downgrade, stamp on a file, and offline SQL", () => {
  const outs = same("write", [
    ["upgrade", "heads", "--sql"],
    ["downgrade", "e6a2c5d81b39:8c41e07ab2d3", "--sql"],
    [...db, "upgrade", "billing@head"], [...db, "current"], [...db, "current", "--verbose"],
    [...db, "upgrade", "heads"], [...db, "history", "--indicate-current"],
    [...db, "downgrade", "-1"], [...db, "downgrade", "shopping@-1"], [...db, "current"],
    [...db, "stamp", "heads"], [...db, "stamp", "base", "--purge"], [...db, "current"],
    [...db, "--transaction-per-migration", "upgrade", "+2"], [...db, "show", "current"],
    [...db, "--version-table", "other_version", "upgrade", "heads"], [...db, "--version-table", "other_version", "current"],
  ]);
  assert.equal(outs[0].stdout, readFileSync(join(golden, "upgrade_heads_sql.txt"), "utf8").replaceAll(" RETURNING version_num", ""));
  assert.equal(outs[0].status, 0);
});

test("the database file is an ordinary SQLite file", () => {
  const p = project("file");
  assert.equal(run(npm, p, [...db, "upgrade", "heads"]).status, 0);
  const check = (sql) => execFileSync("sqlite3", [join(p, "app.db"), sql], { encoding: "utf8" }).trim();
  assert.equal(check("PRAGMA integrity_check"), "ok");
  assert.equal(check("SELECT group_concat(version_num, ' ') FROM (SELECT version_num FROM alembic_version ORDER BY 1)"), "2f0e7a6c3b95 e6a2c5d81b39");
  assert.equal(check("SELECT count(*) FROM athanor_history"), "8");
  assert.ok(!existsSync(join(p, "app.db-journal")));
});

test("a database in WAL mode migrates as the native CLI migrates it, and stays in WAL", () => {
  // Node apps often switch their database to WAL; node:sqlite is SQLite's own (the
  // embedded engine's Node file VFS refused it).
  const outs = same("wal", [[...db, "upgrade", "heads"], [...db, "current"], [...db, "downgrade", "base"], [...db, "upgrade", "billing@head"]], (p) =>
    execFileSync("sqlite3", [join(p, "app.db"), "PRAGMA journal_mode=WAL; CREATE TABLE keep (v); INSERT INTO keep VALUES ('precious');"]),
  );
  assert.equal(outs[1].stdout, "2f0e7a6c3b95 (head)\ne6a2c5d81b39 (head) (mergepoint)\n");
  const file = join(work, "wal-npm", "app.db");
  assert.equal(execFileSync("sqlite3", [file, "PRAGMA journal_mode; SELECT v FROM keep; PRAGMA integrity_check"], { encoding: "utf8" }), "wal\nprecious\nok\n");
});

test("every error code: same one-line message and exit status", () => {
  const bad = (p) => {
    writeFileSync(join(p, "migrations", "ffff0000_broken.sql"), "-- Revision ID: ffff0000\n-- migrate:upgrade\n");
  };
  same("parse", [["heads"], [...db, "upgrade", "heads"]], bad);
  same("targets", [
    [...db, "upgrade", "head"], // MULTIPLE_HEADS
    [...db, "upgrade", "zzzz"], // UNKNOWN_REVISION
    [...db, "upgrade", "2"], // UNKNOWN_REVISION (too short to be a prefix)
    [...db, "upgrade", "-1"], // INVALID_TARGET
    [...db, "downgrade", "+1"],
    [...db, "stamp", "head"],
    ["frobnicate"], ["upgrade", "--bogus"], ["upgrade", "a:b"], ["downgrade", "x", "--sql"], // USAGE
    ["--dir", "nope", "heads"], // IO_ERROR
  ]);
  same("dup", [["heads"]], (p) => {
    writeFileSync(join(p, "migrations", "zz_dup.sql"), "-- Revision ID: 8c41e07ab2d3\n-- Revises:\n-- migrate:upgrade\n");
  });
  same("unknown-parent", [["heads"]], (p) => {
    writeFileSync(join(p, "migrations", "zz_orphan.sql"), "-- Revision ID: abcdef000001\n-- Revises: 000000000000\n-- migrate:upgrade\n");
  });
  same("label", [["heads"]], (p) => {
    writeFileSync(join(p, "migrations", "zz_label.sql"), "-- Revision ID: abcdef000002\n-- Revises: 2f0e7a6c3b95\n-- Branch Labels: billing\n-- migrate:upgrade\n");
  });
  same("cycle", [["heads"]], (p) => {
    writeFileSync(join(p, "migrations", "zz_c1.sql"), "-- Revision ID: cyc1cyc1\n-- Revises: cyc2cyc2\n-- migrate:upgrade\n");
    writeFileSync(join(p, "migrations", "zz_c2.sql"), "-- Revision ID: cyc2cyc2\n-- Revises: cyc1cyc1\n-- migrate:upgrade\n");
  });
  same("ambiguous", [[...db, "upgrade", "abcd"]], (p) => {
    for (const id of ["abcd1111", "abcd2222"]) writeFileSync(join(p, "migrations", `${id}_x.sql`), `-- Revision ID: ${id}\n-- Revises:\n-- migrate:upgrade\n`);
  });
  same("irreversible", [[...db, "upgrade", "heads"], [...db, "downgrade", "base"]], (p) => {
    writeFileSync(join(p, "migrations", "zz_irr.sql"), "-- Revision ID: abcdef000003\n-- Revises: 2f0e7a6c3b95\n-- migrate:upgrade\nSELECT 1;\n");
  });
  same("failed", [[...db, "upgrade", "heads"], [...db, "current"]], (p) => {
    writeFileSync(join(p, "migrations", "zz_fail.sql"), "-- Revision ID: abcdef000004\n-- Revises: 2f0e7a6c3b95\n-- migrate:upgrade\nCREATE TABLE x (a);\nINSERT INTO nope VALUES (1);\n");
  });
  const ahead = same("ahead", [[...db, "upgrade", "heads"], [...db, "current"]], () => {});
  assert.equal(ahead[0].status, 0);
  const p = project("ahead2");
  assert.equal(run(npm, p, [...db, "upgrade", "heads"]).status, 0);
  rmSync(join(p, "migrations", "2f0e7a6c3b95_add_audit_events.sql"));
  const r = run(npm, p, [...db, "current"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^FAILED \[DATABASE_AHEAD\]: Can't locate revision identified by '2f0e7a6c3b95'/);
  // CHECKSUM_MISMATCH: an applied file edited afterwards.
  const q = project("checksum");
  assert.equal(run(npm, q, [...db, "upgrade", "8c41e07ab2d3"]).status, 0);
  const f = join(q, "migrations", "3f9a1c2b7d10_create_log_table.sql");
  writeFileSync(f, readFileSync(f, "utf8").replace("rev TEXT NOT NULL", "rev TEXT"));
  const c = run(npm, q, [...db, "upgrade", "heads"]);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /^FAILED \[CHECKSUM_MISMATCH\]: Revision 3f9a1c2b7d10 /);
});

test("a file that is not UTF-8 is named with its byte, as the native CLI names it; U+FFFD and a BOM in a valid one arrive as written", () => {
  // The npm CLI reads files as UTF-8 text in one call each, and reads a file whose text
  // has a replacement character again as bytes: the parser sees the file's own bytes.
  const latin1 = Buffer.from("-- Revision ID: abcdef000005\n-- Revises: 2f0e7a6c3b95\n-- Message: caf\xe9\n-- migrate:upgrade\nSELECT 1;\n", "latin1");
  const [heads] = same("not-utf8", [["heads"]], (p) => writeFileSync(join(p, "migrations", "zz_latin1.sql"), latin1));
  assert.equal(heads.status, 1);
  assert.match(heads.stderr, /not valid UTF-8 \(byte \d+\)/);
  const text = "\ufeff-- Revision ID: abcdef000006\n-- Revises: 2f0e7a6c3b95\n-- Message: r\u00e9sum\u00e9 \ufffd\n-- migrate:upgrade\nCREATE TABLE marks (m TEXT);\nINSERT INTO marks VALUES ('\ufffd \u00e9 \u{1F600}');\n";
  const outs = same("utf8", [[...db, "upgrade", "heads"], ["history", "-r", "2f0e7a6c3b95:"]], (p) => writeFileSync(join(p, "migrations", "zz_marks.sql"), text));
  assert.equal(outs[0].status, 0, outs[0].stderr);
  assert.match(outs[1].stdout, /r\u00e9sum\u00e9 \ufffd/);
  const file = join(work, "utf8-npm", "app.db");
  assert.equal(execFileSync("sqlite3", [file, "SELECT m FROM marks"], { encoding: "utf8" }), "\ufffd \u00e9 \u{1F600}\n");
});

test("a statement failing mid-section: named by file and line, what ran before it rolled back (kept, outside a transaction), nothing after it run", () => {
  const mid = (options) => (p) =>
    writeFileSync(
      join(p, "migrations", "zz_mid.sql"),
      `-- Revision ID: abcdef000005\n-- Revises: 2f0e7a6c3b95\n-- migrate:upgrade${options}\nCREATE TABLE before_it (a);\nINSERT INTO nope VALUES (1);\nCREATE TABLE after_it (a);\n`,
    );
  const tables = (name) => execFileSync("sqlite3", [join(work, name, "app.db"), "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1)"], { encoding: "utf8" }).trim();
  // Outside a transaction, the steps before the section were committed first, and so is
  // the statement before the failing one.
  const rolledBack = "alembic_version athanor_history audit audit_event log";
  const kept = "account alembic_version athanor_history audit audit_event before_it log";
  for (const [name, options, left] of [["mid", "", rolledBack], ["mid-outside", " transaction:false", kept]]) {
    const outs = same(name, [[...db, "upgrade", "2f0e7a6c3b95"], [...db, "upgrade", "heads"], [...db, "current"]], mid(options));
    assert.equal(outs[1].status, 1);
    assert.match(outs[1].stderr, /FAILED \[MIGRATION_FAILED\]: Migration abcdef000005 failed at <P>\/migrations\/zz_mid\.sql:5: no such table: nope \(statement: INSERT INTO nope VALUES \(1\);\)\n$/);
    for (const cli of ["native", "npm"]) assert.equal(tables(`${name}-${cli}`), left, `${name} ${cli}`);
  }
});

test("the history's checksums are the native CLI's", () => {
  same("sums", [[...db, "upgrade", "heads"]]);
  const sums = (cli) => execFileSync("sqlite3", [join(work, `sums-${cli}`, "app.db"), "SELECT revision || ' ' || checksum FROM athanor_history ORDER BY 1"], { encoding: "utf8" });
  assert.equal(sums("npm").split("\n").length, 9);
  assert.equal(sums("npm"), sums("native"));
});

test("init, revision and merge write files the native CLI would", () => {
  const p = join(work, "authoring");
  mkdirSync(p);
  const r = (args) => run(npm, p, args);
  assert.equal(r(["init"]).stdout, "Creating directory migrations ...  done\nGenerating athanor.ini ...  done\nPlease edit athanor.ini to set the database (db = app.db), or pass --db.\n");
  assert.equal(r(["revision", "-m", "create users", "--rev-id", "aaaa00000001"]).stdout, "Generating migrations/aaaa00000001_create_users.sql ...  done\n");
  assert.equal(r(["revision", "-m", "billing", "--head", "base", "--branch-label", "billing", "--rev-id", "bbbb00000001"]).status, 0);
  const two = r(["revision", "-m", "two"]);
  assert.equal(two.status, 1);
  assert.match(two.stderr, /MULTIPLE_HEADS/);
  assert.equal(r(["merge", "-m", "merge", "heads", "--rev-id", "cccc00000001"]).status, 0);
  const gen = r(["revision", "-m", "after merge"]);
  assert.match(gen.stdout, /^Generating migrations\/[0-9a-f]{12}_after_merge\.sql \.\.\.  done\n$/);
  assert.deepEqual(readdirSync(join(p, "migrations")).length, 4);
  assert.equal(r([...db, "upgrade", "head"]).status, 0);
  assert.match(r([...db, "current"]).stdout, /^[0-9a-f]{12} \(head\)\n$/);
});

test("check: 3 when it cannot compare (no schema.sql), 1 kept for a real difference", () => {
  const [missing] = same("check", [["check"]]);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /^FAILED \[IO_ERROR\]: schema file 'schema\.sql' does not exist/);
  const [differs] = same("check-diff", [["check"]], (p) => writeFileSync(join(p, "schema.sql"), "CREATE TABLE extra (id INTEGER PRIMARY KEY);\n"));
  assert.equal(differs.status, 1);
  assert.match(differs.stderr, /^FAILED \[SCHEMA_DIFF\]/);
});

test("bundle -o into a directory that does not exist yet creates it", () => {
  const [out] = same("bundle-dir", [["bundle", "-o", "src/gen/migrations.js"]]);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout, "Generating src/gen/migrations.js ...  done\n");
  assert.match(readFileSync(join(work, "bundle-dir-npm", "src/gen/migrations.js"), "utf8"), /export default migrations;/);
});

test("--sql with --db: the same SQL as without, and a warning on stderr that the database is ignored", () => {
  const outs = same("offline-db", [[...db, "upgrade", "heads"], [...db, "upgrade", "heads", "--sql"], ["upgrade", "heads", "--sql"]]);
  assert.equal(outs[1].stdout, outs[2].stdout);
  // Each step logged as Alembic's offline mode logs it, after the warning.
  assert.equal(outs[1].stderr, "WARNING [athanor] --sql does not read the database: 'app.db' is ignored and the SQL starts from base (or from FROM in FROM:TO)\n" + outs[2].stderr);
  assert.match(outs[2].stderr, /^(INFO {2}\[athanor\] Running upgrade .*\n)+$/);
});

test("Create Date is UTC from the npm CLI too, whatever the time zone", () => {
  const p = join(work, "utc");
  mkdirSync(join(p, "migrations"), { recursive: true });
  const hour = () => new Date().toISOString().slice(0, 13).replace("T", " ");
  const before = hour();
  const r = spawnSync(process.execPath, [join(pkg, "cli.cjs"), "revision", "-m", "x", "--rev-id", "abcd00000001"], { cwd: p, encoding: "utf8", env: { ...process.env, TZ: "Pacific/Kiritimati" } });
  const after = hour();
  assert.equal(r.status, 0, r.stderr);
  const date = readFileSync(join(p, "migrations", "abcd00000001_x.sql"), "utf8").match(/^-- Create Date: (.*)$/m)[1];
  assert.ok([before, after].includes(date.slice(0, 13)), `${date} is not UTC (${after})`);
  assert.match(date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
});

test("adopt: the same base revision and stamp as the native CLI, FTS5 and views included", () => {
  const legacy = (p) => {
    rmSync(join(p, "migrations"), { recursive: true, force: true });
    mkdirSync(join(p, "legacy"));
    writeFileSync(
      join(p, "legacy", "aaaa00000001_legacy.sql"),
      "-- Revision ID: aaaa00000001\n-- Revises:\n-- Message: legacy\n\n-- migrate:upgrade\n" +
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, gone TEXT);\nCREATE INDEX users_live ON users(email) WHERE gone IS NULL;\n" +
        "CREATE VIEW live AS SELECT * FROM users WHERE gone IS NULL;\nCREATE VIEW live_emails AS SELECT email FROM live;\n" +
        "CREATE VIRTUAL TABLE notes USING fts5(body);\n",
    );
    execFileSync(native, ["--dir", "legacy", ...db, "upgrade", "head"], { cwd: p, stdio: "pipe" });
    execFileSync(native, ["--dir", "legacy", ...db, "stamp", "base", "--purge"], { cwd: p, stdio: "pipe" });
  };
  const outs = same("adopt", [[...db, "adopt", "--rev-id", "bbbb00000001", "--write-schema"], [...db, "current"], ["check"], [...db, "adopt"]], legacy);
  assert.equal(outs[0].stdout, "Generating migrations/bbbb00000001_adopt_existing_schema.sql ...  done\nGenerating schema.sql ...  done\n");
  assert.equal(outs[1].stdout, "bbbb00000001 (head)\n");
  assert.equal(outs[2].stdout, "No new upgrade operations detected.\n");
  assert.equal(outs[3].status, 2);
  const text = (side) => readFileSync(join(work, `adopt-${side}`, "migrations/bbbb00000001_adopt_existing_schema.sql"), "utf8").replace(/-- Create Date: .*\n/, "");
  assert.equal(text("npm"), text("native"));
  assert.match(text("npm"), /CREATE VIRTUAL TABLE notes USING fts5\(body\);/);
  assert.doesNotMatch(text("npm"), /notes_data|alembic_version|athanor_history/);
});

test("test and lint: the same reports, codes and exit status as the native CLI", () => {
  // The lint fixture set (one migration per class), in place of the small fixture.
  const lintSet = (p) => {
    rmSync(join(p, "migrations"), { recursive: true, force: true });
    cpSync(join(root, "tests/fixtures/lint/migrations"), join(p, "migrations"), { recursive: true });
  };
  const outs = same("safety", [
    ["test"], ["test", "--seed"], ["lint", "base:heads"], ["lint", "base:heads", "--format", "json"], ["lint", "b2"],
    [...db, "upgrade", "f6"], [...db, "lint"], ["lint", "--format", "xml"], ["lint", "zz:heads"],
  ], lintSet);
  assert.equal(outs[0].status, 1);
  assert.match(outs[0].stderr, /FAILED \[ROUND_TRIP_FAILED\]: Round trip failed at the downgrade of e5 /);
  assert.equal(outs[2].status, 1);
  assert.match(outs[2].stderr, /FAILED \[LINT_FINDINGS\]: 10 lint finding\(s\) in 5 revision\(s\)/);
  assert.equal(JSON.parse(outs[3].stdout).findings.length, 10);
  assert.equal(outs[4].stdout, "No lint findings in 1 revision.\n");
  assert.match(outs[6].stdout, /g7_non_transactional\.sql:5: non-transactional: /);
  assert.equal(outs[7].status, 2);
  assert.match(outs[8].stderr, /^FAILED \[UNKNOWN_REVISION\]/);
});

test("output larger than a pipe holds reaches a slow reader on a non-blocking pipe whole, and stops quietly when the reader goes", () => {
  // 600 revisions: `history --verbose` prints about 110 KB, more than a pipe's 64 KB.
  const p = join(work, "big-output");
  mkdirSync(join(p, "migrations"), { recursive: true });
  const id = (i) => `b${String(i).padStart(11, "0")}`;
  for (let i = 0; i < 600; i++) {
    writeFileSync(join(p, "migrations", `${id(i)}_m.sql`), `-- Revision ID: ${id(i)}\n-- Revises: ${i ? id(i - 1) : ""}\n-- Message: step ${i}\n\n-- migrate:upgrade\nSELECT ${i};\n`);
  }
  const args = [join(pkg, "cli.cjs"), "history", "--verbose"];
  const whole = execFileSync(process.execPath, args, { cwd: p });
  assert.ok(whole.length > 100_000, `${whole.length} bytes`);
  // Python opens the pipes: its write end made non-blocking (as a parent may leave it),
  // read after the CLI has filled it; then a reader that closes after 10 bytes.
  const script = `
import os, subprocess, sys, time, json
exe, *args = sys.argv[1:]
r, w = os.pipe()
os.set_blocking(w, False)
p = subprocess.Popen([exe, *args], stdout=w, stderr=subprocess.PIPE)
os.close(w)
time.sleep(0.5)
out = b""
while chunk := os.read(r, 65536):
    out += chunk
slow = {"status": p.wait(), "stderr": p.stderr.read().decode(), "length": len(out), "sha": __import__("hashlib").sha256(out).hexdigest()}
p = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
head = p.stdout.read(10)
p.stdout.close()
gone = {"status": p.wait(), "stderr": p.stderr.read().decode(), "head": head.decode()}
print(json.dumps({"slow": slow, "gone": gone}))
`;
  const r = JSON.parse(execFileSync("python3", ["-c", script, process.execPath, ...args], { cwd: p, encoding: "utf8" }));
  const { createHash } = process.getBuiltinModule("node:crypto");
  assert.deepEqual(r.slow, { status: 0, stderr: "", length: whole.length, sha: createHash("sha256").update(whole).digest("hex") });
  assert.deepEqual(r.gone, { status: 0, stderr: "", head: whole.subarray(0, 10).toString() });
});
