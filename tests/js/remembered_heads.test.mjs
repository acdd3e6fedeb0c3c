// Node remembers the heads of the migrations it parsed (issue 12's first call): in an
// installed package, `node_modules/.cache/athanor/heads.json`, keyed by the exact bytes
// of the set and the package's version. A process that then starts at head with the
// same files parses none of them; any change to the files is another key, and a store
// that cannot be read or written is no store. Each script runs in a fresh process under
// a Node with node:sqlite, on the package installed from its tarball.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packedProject } from "./lib/packed.mjs";
import { sqliteNode } from "./lib/node.mjs";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const example = fileURLToPath(new URL("../../example/migrations", import.meta.url));
const HEAD = "7a8b9c0d1e2f";
let project, store, version;

before(() => {
  ({ dir: project } = packedProject("athanor-remembered-", pkg));
  store = join(project, "node_modules", ".cache", "athanor", "heads.json");
  version = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).version;
  writeFileSync(
    join(project, "up.mjs"),
    `import { openMigrator } from "athanor";
const [database, migrations, target = "head"] = process.argv.slice(2);
try {
  const m = await openMigrator({ database, migrations });
  const r = await m.upgrade(target);
  const out = { steps: r.steps.map((s) => s.revision), before: r.before, after: r.after };
  out.heads = await m.heads();
  m.close();
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}`,
  );
});
after(() => rmSync(project, { recursive: true, force: true }));

let n = 0;
/** A copy of the example's migrations and a database path of its own. */
function fresh() {
  const dir = join(project, `case${++n}`);
  cpSync(example, join(dir, "migrations"), { recursive: true });
  return { migrations: join(dir, "migrations"), db: join(dir, "app.db") };
}

const up = (db, migrations, target) => {
  const r = spawnSync(sqliteNode(), ["up.mjs", db, migrations, ...(target ? [target] : [])], { cwd: project, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  return JSON.parse(r.stdout);
};
const entries = () => JSON.parse(readFileSync(store, "utf8"));
const sqlite3 = (db, sql) => spawnSync("sqlite3", [db, sql], { encoding: "utf8" }).stdout.trim();

test("a parse is remembered under the set's bytes and the package's version", () => {
  rmSync(store, { force: true });
  const { migrations, db } = fresh();
  const r = up(db, migrations);
  assert.equal(r.steps.length, 7);
  assert.deepEqual(r.after, [HEAD]);
  const [[print, heads], ...rest] = entries();
  assert.match(print, new RegExp(`^${version.replaceAll(".", "\\.")}:[0-9a-f]{64}$`));
  assert.deepEqual(heads, [HEAD]);
  assert.deepEqual(rest, []);
});

test("at head with the same files, the answer comes from the store and nothing is parsed", () => {
  rmSync(store, { force: true });
  const { migrations, db } = fresh();
  up(db, migrations);
  // Proof that nothing is parsed: the store is made to name a head no file has, and
  // the version table to hold it. A parse would refuse that row; the answer at head
  // is given from the store alone. Asked after, the heads come from a parse.
  const [[print]] = entries();
  writeFileSync(store, JSON.stringify([[print, ["feedfacecafe"]]]));
  sqlite3(db, "UPDATE alembic_version SET version_num = 'feedfacecafe'");
  const r = up(db, migrations);
  assert.deepEqual(r, { steps: [], before: ["feedfacecafe"], after: ["feedfacecafe"], heads: [HEAD] });
  // Without the store the same database is refused: no file has that revision.
  rmSync(store);
  assert.equal(up(db, migrations).code, "DATABASE_AHEAD");
});

test("changed files are another set: parsed, run, and remembered beside the first", () => {
  rmSync(store, { force: true });
  const { migrations, db } = fresh();
  up(db, migrations);
  const [[first]] = entries();
  writeFileSync(
    join(migrations, "8b9c0d1e2f3a_more.sql"),
    `-- Revision ID: 8b9c0d1e2f3a\n-- Revises: ${HEAD}\n-- Message: more\n\n-- migrate:upgrade\nCREATE TABLE more (x);\n\n-- migrate:downgrade\nDROP TABLE more;\n`,
  );
  const r = up(db, migrations);
  assert.deepEqual(r.steps, ["8b9c0d1e2f3a"]);
  assert.deepEqual(entries().map(([p, h]) => [p === first, h]), [[false, ["8b9c0d1e2f3a"]], [true, [HEAD]]]);
  // One byte of one text changed (no revision changed): another set too.
  const file = join(migrations, "8b9c0d1e2f3a_more.sql");
  writeFileSync(file, readFileSync(file, "utf8").replace("CREATE TABLE more (x);", "CREATE TABLE more (y);"));
  assert.deepEqual(up(db, migrations).steps, []);
  assert.equal(entries().length, 3);
});

test("a store that is not JSON, or cannot be written, is no store", () => {
  const { migrations, db } = fresh();
  mkdirSync(join(store, ".."), { recursive: true });
  writeFileSync(store, "not json{");
  assert.deepEqual(up(db, migrations).after, [HEAD]);
  assert.deepEqual(entries()[0][1], [HEAD]);
  // The cache directory is a file: nothing is remembered, everything works.
  const cache = join(project, "node_modules", ".cache");
  rmSync(cache, { recursive: true });
  writeFileSync(cache, "in the way");
  try {
    const other = fresh();
    assert.deepEqual(up(other.db, other.migrations).after, [HEAD]);
    assert.deepEqual(up(other.db, other.migrations).steps, []);
    assert.equal(readFileSync(cache, "utf8"), "in the way");
  } finally {
    rmSync(cache);
  }
});

test("migrations that fail to parse are not remembered", () => {
  rmSync(store, { force: true });
  const { migrations, db } = fresh();
  writeFileSync(join(migrations, "bad.sql"), "-- Revision ID: bad1\n\n-- migrate:upgrade\nSELECT 1;\n");
  assert.equal(up(db, migrations).code, "PARSE_ERROR");
  assert.equal(existsSync(store), false);
  assert.equal(existsSync(db) ? sqlite3(db, "SELECT count(*) FROM sqlite_master") : "0", "0");
});
