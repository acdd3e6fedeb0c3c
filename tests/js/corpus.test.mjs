// The real histories of tests/fixtures/corpus through the npm CLI on files: upgrade head,
// downgrade base where the project has downgrades; Debian's sqlite3 checks the files.
// Outcomes are the documented real ones (tests/fixtures/corpus/SOURCES.md), failures included.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqliteNode } from "./lib/node.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const corpus = process.env.ATHANOR_CORPUS ?? join(root, "tests/fixtures/corpus");
let work;
before(() => (work = mkdtempSync(join(tmpdir(), "athanor-corpus-"))));
after(() => rmSync(work, { recursive: true, force: true }));

const cli = (project, db, ...args) =>
  spawnSync(sqliteNode(), [join(pkg, "cli.cjs"), "--dir", join(corpus, project, "versions"), "--db", db, ...args], { encoding: "utf8" });
const sqlite = (db, sql) => execFileSync("sqlite3", [db, sql], { encoding: "utf8" }).trim();
const userTables = (db) =>
  sqlite(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('alembic_version', 'athanor_history') AND name NOT LIKE 'sqlite_%' ORDER BY name").split("\n").filter(Boolean);

function upgradeToHead(project) {
  const db = join(work, `${project}.db`);
  const heads = cli(project, db, "heads");
  assert.equal(heads.status, 0, heads.stderr);
  const head = heads.stdout.split(" ")[0];
  const up = cli(project, db, "upgrade", "head");
  return { db, head, up };
}

for (const project of ["vaultwarden", "memos", "atuin", "atuin-server-sqlite", "atuin-scripts", "flipt", "pingvin-share"]) {
  test(`${project}: upgrade head on a file, integrity ok, at head`, () => {
    const { db, head, up } = upgradeToHead(project);
    assert.equal(up.status, 0, up.stderr);
    assert.equal(sqlite(db, "PRAGMA integrity_check"), "ok");
    assert.equal(sqlite(db, "SELECT version_num FROM alembic_version"), head);
    assert.equal(cli(project, db, "current").stdout, `${head} (head)\n`);
    assert.ok(userTables(db).length > 0);
  });
}

test("authelia: V0002 needs the app's BIN2B64() function, so the CLI's upgrade fails and changes nothing", () => {
  const { db, up } = upgradeToHead("authelia");
  assert.equal(up.status, 1);
  assert.match(up.stderr, /^FAILED \[MIGRATION_FAILED\]: Migration ced8ed7afb63 failed at .*ced8ed7afb63_webauthn\.sql:\d+: no such function: BIN2B64 /m);
  assert.deepEqual(userTables(db), []);
  assert.equal(sqlite(db, "PRAGMA integrity_check"), "ok");
});

test("vaultwarden: downgrade base runs all 56 and leaves the three tables its downs forget", () => {
  const { db } = upgradeToHead("vaultwarden");
  const down = cli("vaultwarden", db, "downgrade", "base");
  assert.equal(down.status, 0, down.stderr);
  assert.equal(down.stderr.split("\n").filter((l) => l.includes("Running downgrade")).length, 56);
  assert.deepEqual(userTables(db), ["auth_requests", "folders_ciphers", "organization_api_key"]);
  assert.equal(sqlite(db, "SELECT count(*) FROM alembic_version"), "0");
  assert.equal(sqlite(db, "PRAGMA integrity_check"), "ok");
});

test("atuin-scripts: the MySQL-syntax down of `unique names` fails and the database stays at head", () => {
  const { db, head } = upgradeToHead("atuin-scripts");
  const before = sqlite(db, "SELECT sql FROM sqlite_master ORDER BY name");
  const down = cli("atuin-scripts", db, "downgrade", "base");
  assert.equal(down.status, 1);
  assert.match(down.stderr, /FAILED \[MIGRATION_FAILED\]: Migration edd312028daa failed at .*:12: near "index": syntax error \(statement: alter table scripts drop index name_uniq_idx;\)/);
  assert.equal(sqlite(db, "SELECT sql FROM sqlite_master ORDER BY name"), before);
  assert.equal(sqlite(db, "SELECT version_num FROM alembic_version"), head);
});
