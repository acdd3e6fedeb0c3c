// The package in real workerd (through the npm `miniflare` package): `npm pack`ed,
// installed into a fresh project with miniflare, and loaded through its "workerd" export
// condition (the .wasm as a CompiledWasm module). Migrates a D1 binding from a Worker and
// a Durable Object's SQLite storage from its constructor; runs the example, checksum and
// stamp cases and the tests/fixtures/corpus histories through both, against the embedded engine.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runOps } from "./lib/snapshot.mjs";
import { packedProject } from "./lib/packed.mjs";

const MINIFLARE = "miniflare@4.20260730.0";
const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const example = fileURLToPath(new URL("../../example/migrations", import.meta.url));
const HEAD = "7a8b9c0d1e2f";
const FIRST = "1a2b3c4d5e6f";
const SECOND = "2b3c4d5e6f7a";
const { openMigrator } = await import(pathToFileURL(join(pkg, "node.js")).href);
let project;
let mf;
// Empty D1 databases, one per hosted run (D1 has no way to make one at run time).
const D1_POOL = 40;
let d1Used = 0;
let doUsed = 0;


// The 7 example migrations, and the same set with a statement that fails in the 2nd
// revision (after one that succeeds, so a partial step would be visible).
function migrationSets() {
  const good = {};
  for (const f of readdirSync(example).filter((f) => f.endsWith(".sql")).sort()) good[f] = readFileSync(join(example, f), "utf8");
  const broken = { ...good };
  const second = Object.keys(good).find((f) => f.startsWith(SECOND));
  broken[second] = good[second].replace(
    "-- migrate:downgrade",
    "INSERT INTO no_such_table VALUES (1);\n\n-- migrate:downgrade",
  );
  assert.notEqual(broken[second], good[second]);
  return { good, broken };
}

const WORKER = `
import { openMigrator, d1, durableObject, MigrationError } from "athanor";
import migrations from "./migrations.js";
import broken from "./broken.js";
import { runOps } from "./snapshot.mjs";

const json = (v, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });

async function run(fn) {
  try {
    return json(await fn());
  } catch (e) {
    return json({ error: String(e?.message ?? e), code: e?.code ?? null, data: e?.data ?? null, isMigrationError: e instanceof MigrationError }, 500);
  }
}

const tables = async (db) =>
  (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()).results.map((r) => r.name);

const counters = (globalThis.__counters = { constructed: {}, stepsApplied: {} });

function notesClass(kind, makeAdapter) {
  return class {
    constructor(ctx, env) {
      this.ctx = ctx;
      counters.constructed[kind] = (counters.constructed[kind] ?? 0) + 1;
      ctx.blockConcurrencyWhile(async () => {
        const m = await openMigrator({ migrations, adapter: makeAdapter(ctx.storage) });
        const r = await m.upgrade("heads");
        this.steps = r.steps.length;
        counters.stepsApplied[kind] = (counters.stepsApplied[kind] ?? 0) + r.steps.length;
      });
    }
    async fetch(request) {
      const sql = this.ctx.storage.sql;
      const one = (q) => [...sql.exec(q).raw()].map((r) => r[0]);
      // note.archived_at only exists at the head revision.
      const id = one("INSERT INTO note (title, body) VALUES ('t', 'a b c') RETURNING id")[0];
      return json({
        rows: one("SELECT version_num FROM alembic_version ORDER BY rowid"),
        live: one("SELECT count(*) FROM note WHERE archived_at IS NULL")[0] >= 1,
        id,
        history: one("SELECT count(*) FROM athanor_history")[0],
        stepsThisInstance: this.steps,
        stepsApplied: counters.stepsApplied[kind],
        constructed: counters.constructed[kind],
      });
    }
  };
}
export class NotesShipped extends notesClass("shipped", durableObject) {}

// What durableObject().step returns for one INSERT into a table shaped like alembic_version.
export class Probe {
  constructor(ctx) {
    this.ctx = ctx;
  }
  async fetch() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS v (version_num VARCHAR(32) NOT NULL, CONSTRAINT v_pkc PRIMARY KEY (version_num))");
    sql.exec("CREATE TABLE IF NOT EXISTS plain (x TEXT)");
    const cur = sql.exec("INSERT INTO v (version_num) VALUES (?)", "abc");
    const rowsWritten = cur.rowsWritten;
    const changes = sql.exec("SELECT changes()").raw().next().value[0];
    const plain = sql.exec("INSERT INTO plain (x) VALUES (?)", "abc").rowsWritten;
    return json({ rowsWritten, changes, plainRowsWritten: plain });
  }
}

// POST { sets, ops }: the ops (tests/js/lib/snapshot.mjs runOps) on a fresh Durable
// Object's storage (one object per name) or on the D1 binding named by ?db=.
export class Runner {
  constructor(ctx) {
    this.ctx = ctx;
  }
  async fetch(request) {
    const { sets, ops } = await request.json();
    const sql = this.ctx.storage.sql;
    const values = (q) => [...sql.exec(q).raw()].map((r) => r[0]);
    return json(await runOps((m) => openMigrator({ migrations: m, adapter: durableObject(this.ctx.storage) }), values, sets, ops));
  }
}

async function hostedD1(request, db) {
  const { sets, ops } = await request.json();
  const values = async (q) => (await db.prepare(q).all()).results.map((r) => Object.values(r)[0]);
  return json(await runOps((m) => openMigrator({ migrations: m, adapter: d1(db) }), values, sets, ops));
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/hosted/d1":
        return hostedD1(request, env[url.searchParams.get("db")]);
      case "/hosted/do":
        return env.RUNNER.get(env.RUNNER.idFromName(url.searchParams.get("db"))).fetch(request);
      case "/d1/upgrade":
        return run(async () => {
          const m = await openMigrator({ migrations, adapter: d1(env.DB) });
          const r = await m.upgrade(url.searchParams.get("target") ?? "heads");
          return { steps: r.steps.map((s) => s.revision), rows: await m.rows(), heads: await m.heads(), tables: await tables(env.DB) };
        });
      case "/admin/downgrade":
        return run(async () => {
          const m = await openMigrator({ migrations, adapter: d1(env.DB) });
          const r = await m.downgrade(url.searchParams.get("target") ?? "-1");
          return { steps: r.steps.map((s) => s.revision), rows: await m.rows(), tables: await tables(env.DB) };
        });
      case "/d1/broken": {
        const m = await openMigrator({ migrations: broken, adapter: d1(env.BROKEN) });
        const res = await run(() => m.upgrade("heads"));
        const body = await res.json();
        return json({ ...body, failedStatus: res.status, rows: await m.rows(), tables: await tables(env.BROKEN) });
      }
      case "/do/shipped":
        return env.SHIPPED.get(env.SHIPPED.idFromName("cold")).fetch(request);
      case "/do/probe":
        return env.PROBE.get(env.PROBE.idFromName("probe")).fetch(request);
    }
    return new Response("not found", { status: 404 });
  },
};
`;

before(async () => {
  let requireFromProject;
  ({ dir: project, require: requireFromProject } = packedProject("athanor-workerd-", pkg, [MINIFLARE]));

  // Resolve "athanor" the way a workerd bundler would: the "workerd" export condition of
  // the installed package. Every file of the package becomes a module under
  // node_modules/athanor/, and a module named "athanor" re-exports the entry.
  const installed = join(project, "node_modules", "athanor");
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
  const entry = manifest.exports["."].workerd;
  assert.equal(entry, "./workerd.js");
  const modules = [
    { type: "ESModule", path: join(project, "worker.js"), contents: WORKER },
    { type: "ESModule", path: join(project, "athanor"), contents: `export * from "./node_modules/athanor/${entry.slice(2)}";\n` },
  ];
  const { good, broken } = migrationSets();
  modules.push({ type: "ESModule", path: join(project, "migrations.js"), contents: `export default ${JSON.stringify(good)};\n` });
  modules.push({ type: "ESModule", path: join(project, "broken.js"), contents: `export default ${JSON.stringify(broken)};\n` });
  modules.push({ type: "ESModule", path: join(project, "snapshot.mjs"), contents: readFileSync(new URL("./lib/snapshot.mjs", import.meta.url), "utf8") });
  for (const f of readdirSync(installed)) {
    if (f.endsWith(".js")) modules.push({ type: "ESModule", path: join(installed, f), contents: readFileSync(join(installed, f), "utf8") });
    if (f.endsWith(".wasm")) modules.push({ type: "CompiledWasm", path: join(installed, f), contents: readFileSync(join(installed, f)) });
  }

  const { Miniflare } = await import(pathToFileURL(requireFromProject.resolve("miniflare")).href);
  mf = new Miniflare({
    modules,
    modulesRoot: project,
    compatibilityDate: "2025-04-01",
    d1Databases: ["DB", "BROKEN", ...Array.from({ length: D1_POOL }, (_, i) => `D1_${i}`)],
    durableObjects: {
      RUNNER: { className: "Runner", useSQLite: true },
      SHIPPED: { className: "NotesShipped", useSQLite: true },
      PROBE: { className: "Probe", useSQLite: true },
    },
  });
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
  if (project) rmSync(project, { recursive: true, force: true });
});

async function get(path) {
  const res = await mf.dispatchFetch(`http://localhost${path}`, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  try {
    return { status: res.status, ...JSON.parse(text) };
  } catch {
    throw new Error(`${path}: HTTP ${res.status}: ${text}`);
  }
}

test("D1: upgrade to head, no-op, downgrade -1 and back, failing revision stops at the one before", { timeout: 60_000 }, async () => {
  const first = await get("/d1/upgrade");
  assert.equal(first.status, 200, JSON.stringify(first));
  assert.equal(first.steps.length, 7);
  assert.deepEqual(first.rows, [HEAD]);
  assert.deepEqual(first.heads, [HEAD]);
  for (const t of ["alembic_version", "note", "note_tag", "share", "tag"]) assert.ok(first.tables.includes(t), `${t} in ${first.tables}`);

  const second = await get("/d1/upgrade");
  assert.equal(second.status, 200, JSON.stringify(second));
  assert.deepEqual(second.steps, []);
  assert.deepEqual(second.rows, [HEAD]);

  const down = await get("/admin/downgrade?target=-1");
  assert.equal(down.status, 200, JSON.stringify(down));
  assert.deepEqual(down.steps, [HEAD]);
  assert.deepEqual(down.rows, ["6f7a8b9c0d1e"]);

  const up = await get("/d1/upgrade");
  assert.equal(up.status, 200, JSON.stringify(up));
  assert.deepEqual(up.steps, [HEAD]);
  assert.deepEqual(up.rows, [HEAD]);

  const bad = await get("/d1/broken");
  assert.equal(bad.status, 200, JSON.stringify(bad));
  assert.equal(bad.failedStatus, 500);
  assert.equal(bad.code, "MIGRATION_FAILED", JSON.stringify(bad));
  assert.equal(bad.isMigrationError, true);
  assert.equal(bad.data.revision, SECOND);
  assert.match(bad.data.sqliteMessage, /no such table: no_such_table/);
  // As the embedded engine: the statement and its line in the file (D1's own error
  // names neither; the adapter finds it by bisecting in rolled-back batches).
  const text = Object.entries(migrationSets().broken).find(([f]) => f.startsWith(SECOND))[1];
  assert.equal(bad.data.statement, "INSERT INTO no_such_table VALUES (1);");
  assert.equal(bad.data.line, text.split("\n").indexOf("INSERT INTO no_such_table VALUES (1);") + 1);
  // The whole run was one batch: the revision before the failing one is gone too.
  assert.deepEqual(bad.rows, []);
  assert.ok(!bad.tables.includes("note"), JSON.stringify(bad.tables));
  assert.ok(!bad.tables.includes("tag") && !bad.tables.includes("note_tag"), JSON.stringify(bad.tables));
});

async function fiftyColdFetches(path) {
  const results = await Promise.all(Array.from({ length: 50 }, () => get(path)));
  const ids = new Set();
  for (const r of results) {
    assert.equal(r.status, 200, JSON.stringify(r));
    assert.deepEqual(r.rows, [HEAD]);
    assert.equal(r.live, true);
    assert.equal(r.history, 7, "each migration recorded once in athanor_history");
    assert.equal(r.stepsThisInstance, 7);
    ids.add(r.id);
  }
  assert.equal(ids.size, 50, "each request inserted its own note");
  // One constructor, seven steps applied in all (module-level counters in the isolate).
  assert.deepEqual([...new Set(results.map((r) => r.constructed))], [1]);
  assert.deepEqual([...new Set(results.map((r) => r.stepsApplied))], [7]);
}

test("Durable Object: why the adapter counts with changes(), not cursor.rowsWritten", { timeout: 30_000 }, async () => {
  const p = await get("/do/probe");
  assert.equal(p.status, 200, JSON.stringify(p));
  // workerd counts index writes in rowsWritten: one INSERT into a PRIMARY KEY table
  // reports 2, while SQLite's changes() (what durableObject() uses) says 1.
  assert.deepEqual([p.rowsWritten, p.changes, p.plainRowsWritten], [2, 1, 1], JSON.stringify(p));
});

test("Durable Object, the shipped durableObject() adapter: 50 concurrent fetches to a cold object see the head", { timeout: 60_000 }, async () => {
  await fiftyColdFetches("/do/shipped");
});

/** Runs `ops` on a fresh D1 database or Durable Object through the Worker. */
async function hosted(host, sets, ops) {
  const db = host === "d1" ? `D1_${d1Used++}` : `object-${doUsed++}`;
  assert.ok(d1Used <= D1_POOL, "D1 pool exhausted: raise D1_POOL");
  const res = await mf.dispatchFetch(`http://localhost/hosted/${host}?db=${db}`, {
    method: "POST",
    body: JSON.stringify({ sets, ops }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

/** The same ops on the embedded engine (a file), the reference D1 and DOs must match. */
async function embedded(sets, ops) {
  const path = join(project, `embedded-${d1Used + doUsed}-${Math.random().toString(36).slice(2)}.db`);
  const values = (sql) => JSON.parse(execFileSync("sqlite3", ["-json", path, sql], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) || "[]").map((r) => Object.values(r)[0]);
  return runOps((m) => openMigrator({ migrations: m, database: path, vfs: "athanor-node" }), values, sets, ops);
}

const readSet = (dir) => Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => [f, readFileSync(join(dir, f), "utf8")]));
const corpus = process.env.ATHANOR_CORPUS ?? fileURLToPath(new URL("../fixtures/corpus/", import.meta.url));

const file = (id, revises, up, down = "") => `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n${down}\n`;
const base = {
  "a1a1_a.sql": file("a1a1", "", "CREATE TABLE a (x);", "DROP TABLE a;"),
  "b2b2_b.sql": file("b2b2", "a1a1", "CREATE TABLE b (x);", "DROP TABLE b;"),
};
const edited = { ...base, "a1a1_a.sql": file("a1a1", "", "CREATE TABLE a (x, y);", "DROP TABLE a;") };
const c3 = (up) => ({ "c3c3_c.sql": file("c3c3", "b2b2", up, "DROP TABLE c;") });

// The table-driven comparison of hosts (hosts.test.mjs) continued in workerd: the same
// sets through D1 and a Durable Object give the embedded engine's schema, version table
// and history after every operation.
const SAME = {
  example: { sets: { main: readSet(example) }, ops: [{ op: "upgrade", target: "head" }, { op: "downgrade", target: "base" }, { op: "upgrade", target: "head" }] },
  "corpus atuin": { sets: { main: readSet(join(corpus, "atuin/versions")) }, ops: [{ op: "upgrade", target: "head" }] },
  // Alembic moves the version table without athanor_history: its downgrade, then its stamp.
  "a version table moved by Alembic": {
    sets: { main: { ...base, ...c3("CREATE TABLE c (x);") } },
    ops: [
      { op: "upgrade", target: "head" },
      { op: "sql", sql: "DROP TABLE c" },
      { op: "sql", sql: "DROP TABLE b" },
      { op: "sql", sql: "UPDATE alembic_version SET version_num = 'a1a1'" },
      { op: "upgrade", target: "b2b2" },
      { op: "upgrade", target: "head" },
      { op: "sql", sql: "UPDATE alembic_version SET version_num = 'b2b2'" },
      { op: "downgrade", target: "a1a1" },
    ],
  },
};
for (const [name, { sets, ops }] of Object.entries(SAME)) {
  for (const host of ["d1", "do"]) {
    test(`${host}: ${name} gives the embedded engine's schema, version table and history`, { timeout: 60_000 }, async () => {
      const want = await embedded(sets, ops);
      assert.ok(want.every((r) => r.ok) && want[0].snapshot.schema.length > 3, JSON.stringify(want[0]));
      assert.deepEqual(await hosted(host, sets, ops), want);
    });
  }
}

const CHECKS = {
  sets: { base, edited, grown: { ...edited, ...c3("CREATE TABLE c (x);") }, changedC: { ...edited, ...c3("CREATE TABLE c (y);") } },
  ops: [
    { op: "upgrade", target: "head", set: "base" },
    { op: "upgrade", target: "head", set: "edited" }, // nothing to do: nothing verified
    { op: "upgrade", target: "head", set: "grown" }, // a1a1 was edited
    { op: "downgrade", target: "base", set: "grown" },
    { op: "stamp", target: "b2b2", purge: true, set: "grown" }, // accepts the edit
    { op: "upgrade", target: "head", set: "grown" },
    { op: "downgrade", target: "base", set: "changedC" }, // c3c3 edited after it ran
    { op: "stamp", target: "a1a1", set: "grown" },
    { op: "stamp", target: "nope", set: "grown" },
    { op: "stamp", target: ["c3c3", "head"], set: "grown" },
    { op: "stamp", target: "a1a1", set: "base" }, // c3c3 is unknown to this set
  ],
};

for (const host of ["d1", "do"]) {
  test(`${host}: checksums and stamp as the embedded engine, with the same codes`, { timeout: 60_000 }, async () => {
    const want = await embedded(CHECKS.sets, CHECKS.ops);
    assert.deepEqual(
      want.map((r) => r.code ?? r.steps.join(",")),
      ["a1a1,b2b2", "", "CHECKSUM_MISMATCH", "CHECKSUM_MISMATCH", "", "c3c3", "CHECKSUM_MISMATCH", "", "UNKNOWN_REVISION", "", "DATABASE_AHEAD"],
    );
    assert.deepEqual(want[2].snapshot, want[0].snapshot, "a refused run changes nothing");
    assert.deepEqual(want[7].snapshot.history, [], "stamping down forgets the history of what is no longer applied");
    assert.deepEqual(want[9].snapshot.versions, ["c3c3"]);
    const got = await hosted(host, CHECKS.sets, CHECKS.ops);
    // Adapters create athanor_history with the version table (stamp included).
    const schemaless = (rs) => rs.map(({ snapshot: { schema, ...rest }, ...r }) => ({ ...r, ...rest, tables: schema.filter((s) => !s.includes("athanor_history")) }));
    assert.deepEqual(schemaless(got), schemaless(want));
  });
}

// The corpus histories (tests/fixtures/corpus) through D1 and a Durable Object: upgrade head,
// then downgrade base where the project ships downgrades. D1 and DO storage enforce
// foreign keys and run the whole run as one batch or one transactionSync, so outcomes are
// compared with the embedded engine where they can agree, and otherwise asserted as the
// corpus documents them (SOURCES.md).
const up = [{ op: "upgrade", target: "head" }];
const upDown = [...up, { op: "downgrade", target: "base" }];
const corpusSets = (project) => ({ main: readSet(join(corpus, project, "versions")) });
const tableNames = (snap) => snap.schema.filter((s) => s.startsWith("table ")).map((s) => s.split(" ")[1]);

for (const host of ["d1", "do"]) {
  for (const project of ["vaultwarden", "atuin", "atuin-server-sqlite", "atuin-scripts", "flipt", "pingvin-share"]) {
    const ops = ["vaultwarden", "atuin-scripts"].includes(project) ? upDown : up;
    test(`${host}: corpus ${project} ${ops.length > 1 ? "upgrade head and downgrade base" : "upgrade head"} as the embedded engine`, { timeout: 120_000 }, async () => {
      const sets = corpusSets(project);
      const want = await embedded(sets, ops);
      assert.ok(want[0].ok && want[0].steps.length === Object.keys(sets.main).length, JSON.stringify(want[0]).slice(0, 500));
      const got = await hosted(host, sets, ops);
      assert.deepEqual(got.map((r) => r.ok), want.map((r) => r.ok), JSON.stringify(got.map((r) => r.message)));
      for (const [i, r] of got.entries()) {
        assert.deepEqual(r.snapshot, want[i].snapshot);
        assert.equal(r.code, want[i].code);
        assert.equal(r.revision, want[i].revision);
      }
      if (project === "vaultwarden") assert.deepEqual(tableNames(got[1].snapshot), ["alembic_version", "athanor_history", "auth_requests", "folders_ciphers", "organization_api_key"]);
      if (project === "atuin-scripts") {
        assert.equal(got[1].code, "MIGRATION_FAILED");
        assert.match(got[1].message, /near "index": syntax error/);
      }
    });
  }

  test(`${host}: corpus memos fails at 0.3/00 with foreign keys enforced and leaves the database as it was`, { timeout: 120_000 }, async () => {
    // SOURCES.md: with foreign_keys=ON and the PRAGMA ignored inside a transaction,
    // 0.3/00's DROP TABLE fails on the FK that 0.2/00's rename left dangling. The
    // embedded engine runs with foreign keys off (memos' profile) and gets to head.
    const sets = corpusSets("memos");
    const [got] = await hosted(host, sets, up);
    assert.equal(got.code, "MIGRATION_FAILED");
    assert.equal(got.revision, "338b77cfccaf");
    assert.match(got.message, /no such table: main\._user_old/);
    // The whole run is one batch (D1) or one transactionSync (DO): nothing of it stays.
    assert.deepEqual(got.snapshot.versions, []);
    assert.deepEqual(tableNames(got.snapshot), []);
  });

  test(`${host}: corpus authelia stops at V0001 without the app's BIN2B64() and leaves the database as it was`, { timeout: 120_000 }, async () => {
    // As the embedded engine's default: the whole run rolled back, nothing to downgrade.
    const sets = corpusSets("authelia");
    const got = await hosted(host, sets, upDown);
    assert.equal(got[0].code, "MIGRATION_FAILED");
    assert.equal(got[0].revision, "ced8ed7afb63");
    assert.match(got[0].message, /no such function: BIN2B64/);
    assert.deepEqual(got[1].steps, []);
    assert.deepEqual(tableNames(got[1].snapshot), []);
    const [whole] = await embedded(sets, up);
    assert.equal(whole.code, "MIGRATION_FAILED");
    assert.deepEqual(whole.snapshot, got[0].snapshot, "the embedded engine's default: the whole run rolled back");
  });
}
