// A Worker as a user builds it: the package `npm pack`ed and installed into a fresh
// project, the migrations written by the installed CLI's `athanor bundle`, the Worker
// bundled by esbuild with the `workerd` condition (as Wrangler bundles), and that bundle
// run in real workerd (miniflare) as four Workers sharing one D1 database and one
// Durable Object namespace. Shows issue 14's edge guarantees there:
//   - five migrations, the third failing: the database exactly as before the run;
//   - four Workers' first requests at once on a fresh database: each migration once;
//   - a run past D1's batch limit: one batch per migration, and the report says so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { packedProject, WORKER_BUILD } from "./lib/packed.mjs";

const MINIFLARE = "miniflare@4.20260730.0";
const ESBUILD = "esbuild@0.28.2";
const WORKERS = 4;
const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", timeout: 180_000, stdio: ["ignore", "pipe", "pipe"] });

// Every migration logs itself into `log`, so a migration applied twice shows; past the
// first, each could run twice without an error of its own (IF NOT EXISTS), so only
// athanor's guard stands between a lost race and a second application.
const rev = (i) => `${String(i).padStart(4, "0")}aaaa0000`;
const file = (i, up) => `-- Revision ID: ${rev(i)}\n-- Revises: ${i > 1 ? rev(i - 1) : ""}\n-- Message: step ${i}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\nSELECT 1;\n`;
const step = (i) => (i === 1 ? "CREATE TABLE log (step INTEGER NOT NULL);\nINSERT INTO log VALUES (1);" : `CREATE TABLE IF NOT EXISTS t${i} (x);\nINSERT INTO t${i} VALUES (${i});\nINSERT INTO log VALUES (${i});`);
/** Revisions 1..n; `fail`: that revision fails after its first statement succeeded. */
function set(n, { fail, statements = 0 } = {}) {
  const out = {};
  for (let i = 1; i <= n; i++) {
    let up = step(i);
    if (i === fail) up = `CREATE TABLE half${i} (x);\nINSERT INTO no_such_table VALUES (1);\nINSERT INTO log VALUES (${i});`;
    // Filler rows, to pass a batch limit.
    if (statements) up += "\n" + Array.from({ length: statements }, (_, k) => `INSERT INTO log VALUES (${-i * 1000 - k});`).join("\n");
    out[`${rev(i)}_step_${i}.sql`] = file(i, up);
  }
  return out;
}
const SETS = {
  // Two revisions an app already runs, then five more of which the third fails.
  first: set(2),
  broken: set(7, { fail: 5 }),
  good: set(7),
  // 4 revisions of 300 statements: 1,200 as one batch, past D1_MAX_BATCH (1000).
  large: set(4, { statements: 300 }),
};

const WORKER = `
import { openMigrator, d1, durableObject, D1_MAX_BATCH } from "athanor";
${Object.keys(SETS).map((k) => `import ${k} from "./${k}.mjs";`).join("\n")}
const SETS = { ${Object.keys(SETS).join(", ")} };

// What a run leaves: schema, every table's rows, version table and history.
const SNAPSHOT = [
  "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\\\_cf\\\\_%' ESCAPE '\\\\' ORDER BY name",
  "SELECT version_num FROM alembic_version ORDER BY rowid",
  "SELECT revision || ' ' || checksum FROM athanor_history ORDER BY revision",
  "SELECT group_concat(step, ',') FROM (SELECT step FROM log WHERE step > 0 ORDER BY rowid)",
  "SELECT count(*) FROM log",
  "PRAGMA quick_check",
];
async function snapshot(values) {
  const out = [];
  for (const q of SNAPSHOT) {
    try {
      const rows = await values(q);
      // The log and its count as one value each.
      out.push(/^SELECT (group_concat|count)/.test(q) ? rows[0] : rows);
    } catch (e) {
      if (!/no such table/.test(String(e?.message ?? e))) throw e;
      out.push(null);
    }
  }
  return out;
}

/** Waits at the test's barrier (the Node side answers once every Worker is there), so
 * all have read and planned before any sends its batch. */
const barrier = (url) => fetch(url).then((r) => r.text());

/** Runs ?op (default upgrade) of ?set to ?target; the report or the error, and the
 * snapshot after it. */
async function run(params, adapter, values) {
  const m = await openMigrator({ migrations: SETS[params.get("set")], adapter });
  let report = null;
  let error = null;
  try {
    report = await m.upgrade(params.get("target") ?? "heads");
  } catch (e) {
    error = { code: e.code ?? null, message: String(e.message), revision: e.data?.revision ?? null, statement: e.data?.statement ?? null };
  }
  return Response.json({ report, error, snapshot: await snapshot(values), defaultMaxBatch: D1_MAX_BATCH });
}

export class Edge {
  constructor(ctx) {
    this.ctx = ctx;
  }
  async fetch(request) {
    const sql = this.ctx.storage.sql;
    const values = (q) => [...sql.exec(q).raw()].map((r) => r[0]);
    return run(new URL(request.url).searchParams, durableObject(this.ctx.storage), values);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const params = url.searchParams;
    if (url.pathname === "/do") return env.EDGE.get(env.EDGE.idFromName(params.get("name"))).fetch(request);
    const db = env[params.get("db") ?? "DB"];
    const values = async (q) => (await db.prepare(q).raw()).map((r) => r[0]);
    const opts = params.has("maxBatch") ? { maxBatch: Number(params.get("maxBatch")) } : undefined;
    const inner = d1(db, opts);
    let waited = false;
    const adapter = params.has("barrier")
      ? { ...inner, async batch(statements) { if (!waited) { waited = true; await barrier(params.get("barrier")); } return inner.batch(statements); } }
      : inner;
    return run(params, adapter, values);
  },
};
`;

let project;
let mf;
let bundleKiB;
/** Requests held at the barrier, by barrier URL. */
const waiting = new Map();

before(async () => {
  const packed = packedProject("athanor-workerd-bundle-", pkg, [MINIFLARE, ESBUILD]);
  project = packed.dir;
  const req = packed.require;

  // The migrations as the installed CLI bundles them.
  for (const [name, files] of Object.entries(SETS)) {
    const dir = join(project, "migrations", name);
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    sh("node", [join(project, "node_modules/athanor/cli.cjs"), "--dir", dir, "bundle", "-o", join(project, `${name}.mjs`)], project);
  }
  writeFileSync(join(project, "worker.js"), WORKER);

  const esbuild = await import(pathToFileURL(req.resolve("esbuild")).href);
  const out = join(project, "dist");
  const result = await esbuild.build({
    entryPoints: [join(project, "worker.js")],
    ...WORKER_BUILD,
    minify: true,
    metafile: true,
    outdir: out,
    logLevel: "silent",
  });
  assert.ok(Object.keys(result.metafile.inputs).some((p) => p.endsWith("node_modules/athanor/workerd.js")), "esbuild took athanor's workerd entry");
  const js = readFileSync(join(out, "worker.js"), "utf8");
  const wasmName = /["']\.\/([\w.-]+\.wasm)["']/.exec(js)?.[1];
  assert.equal(wasmName, "athanor_adapter_bg.wasm", "the Worker imports the wasm without SQLite");
  const wasm = readFileSync(join(project, "node_modules/athanor", wasmName));
  bundleKiB = (js.length + wasm.length) / 1024;

  const { Miniflare } = await import(pathToFileURL(req.resolve("miniflare")).href);
  const worker = (name) => ({
    name,
    modules: [
      { type: "ESModule", path: join(project, "worker.js"), contents: js },
      { type: "CompiledWasm", path: join(project, wasmName), contents: wasm },
    ],
    modulesRoot: project,
    compatibilityDate: "2025-04-01",
    // One D1 database (same id) bound in every Worker; D1_k: one fresh database a test.
    d1Databases: { DB: "shared", ...Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`D1_${k}`, `db-${k}`])) },
    durableObjects: { EDGE: { className: "Edge", useSQLite: true, scriptName: "w0" } },
    // The barrier: each Worker's fetch("http://barrier/<n>/<key>") is answered once n are waiting.
    outboundService: async (request) => {
      const [, n, key] = new URL(request.url).pathname.split("/");
      const list = waiting.get(key) ?? [];
      waiting.set(key, list);
      const answered = new Promise((resolve) => list.push(resolve));
      if (list.length === Number(n)) for (const resolve of list) resolve(new Response("go"));
      return answered;
    },
  });
  mf = new Miniflare({ workers: Array.from({ length: WORKERS }, (_, i) => worker(`w${i}`)) });
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
  if (project) rmSync(project, { recursive: true, force: true });
});

/** One request to Worker `i`. */
async function call(i, path) {
  const w = await mf.getWorker(`w${i}`);
  const res = await w.fetch(`http://localhost${path}`, { signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

const SNAP = { schema: 0, versions: 1, history: 2, log: 3, logRows: 4, integrity: 5 };

test("the esbuild bundle from the packed tarball runs in workerd (D1 and a Durable Object)", { timeout: 120_000 }, async () => {
  const d = await call(0, "/?db=D1_0&set=first");
  assert.equal(d.error, null, JSON.stringify(d.error));
  assert.deepEqual(d.report.steps.map((s) => s.revision), [rev(1), rev(2)]);
  assert.equal(d.report.batches, "one");
  const o = await call(1, "/do?name=smoke&set=first");
  assert.equal(o.error, null, JSON.stringify(o.error));
  assert.deepEqual(o.snapshot, d.snapshot);
  console.log(`# the Worker bundle (minified JS + adapter wasm): ${bundleKiB.toFixed(1)} KiB raw`);
});

for (const [host, path] of [["D1", "/?db=D1_1"], ["Durable Object", "/do?name=broken"]]) {
  test(`${host}: five migrations, the third failing, leave the database exactly as before the run`, { timeout: 60_000 }, async () => {
    const before = await call(0, `${path}&set=first`);
    assert.equal(before.error, null);
    assert.deepEqual(before.snapshot[SNAP.log], "1,2");
    const failed = await call(0, `${path}&set=broken`);
    assert.equal(failed.error?.code, "MIGRATION_FAILED", JSON.stringify(failed.error));
    assert.equal(failed.error.revision, rev(5));
    assert.equal(failed.error.statement, "INSERT INTO no_such_table VALUES (1);");
    // Schema, every row, the version table and the history: nothing of revisions 3 and 4
    // (applied before the failure in the same run) nor of 5's first statement stays.
    assert.deepEqual(failed.snapshot, before.snapshot);
    assert.deepEqual(failed.snapshot[SNAP.versions], [rev(2)]);
    // The same five without the failure go through.
    const good = await call(0, `${path}&set=good`);
    assert.deepEqual(good.report.steps.map((s) => s.revision), [3, 4, 5, 6, 7].map(rev));
    assert.equal(good.snapshot[SNAP.log], "1,2,3,4,5,6,7");
  });
}

for (const [from, db] of [["a fresh database", "DB"], ["revision 2", "D1_7"]]) {
  test(`D1: ${WORKERS} Workers' first requests at once on ${from} apply each migration once`, { timeout: 60_000 }, async () => {
    const start = db === "DB" ? 0 : 2;
    if (start) assert.equal((await call(0, `/?db=${db}&set=first`)).error, null);
    // Every Worker reads, plans from the same rows, then waits at the barrier before
    // its batch: all four batches race, D1 runs them one after another.
    const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => call(i, `/?db=${db}&set=good&barrier=http://barrier/${WORKERS}/${db}`)));
    for (const r of results) assert.equal(r.error, null, JSON.stringify(r.error));
    assert.deepEqual(results.map((r) => r.report.steps.length).sort(), [0, 0, 0, 7 - start], "one Worker applied them, the others none");
    // The three that lost found the version table moved (their guard failed their batch
    // whole) and planned again from what the winner left.
    assert.deepEqual(results.map((r) => r.report.replans).sort(), [0, 1, 1, 1]);
    for (const r of results) {
      assert.deepEqual(r.report.after, [rev(7)]);
      if (!r.report.steps.length) assert.deepEqual(r.report.before, [rev(7)], "nothing applied: before is what the winner left");
    }
    const last = await call(0, `/?db=${db}&set=good`);
    assert.deepEqual(last.report.steps, []);
    assert.equal(last.snapshot[SNAP.log], "1,2,3,4,5,6,7", "each migration logged once");
    assert.equal(last.snapshot[SNAP.history].length, 7);
    assert.deepEqual(last.snapshot[SNAP.integrity], ["ok"]);
  });
}

test(`D1: ${WORKERS} Workers' first requests at once, without a barrier, apply each migration once`, { timeout: 60_000 }, async () => {
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => call(i, "/?db=D1_2&set=good")));
  for (const r of results) assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(results.reduce((n, r) => n + r.report.steps.length, 0), 7);
  const last = await call(0, "/?db=D1_2&set=good");
  assert.equal(last.snapshot[SNAP.log], "1,2,3,4,5,6,7");
  assert.deepEqual(last.snapshot[SNAP.integrity], ["ok"]);
});

test(`Durable Object: ${WORKERS} Workers' first requests at once to one object apply each migration once`, { timeout: 60_000 }, async () => {
  // No blockConcurrencyWhile: each request runs the upgrade in its fetch. The whole run
  // (reading the version table included) is one synchronous transactionSync, so the
  // object's requests cannot interleave inside it.
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => call(i, "/do?name=race&set=good")));
  for (const r of results) assert.equal(r.error, null, JSON.stringify(r.error));
  assert.deepEqual(results.map((r) => r.report.steps.length).sort(), [0, 0, 0, 7]);
  const last = results.find((r) => r.report.steps.length === 0);
  assert.equal(last.snapshot[SNAP.log], "1,2,3,4,5,6,7");
  assert.deepEqual(last.snapshot[SNAP.integrity], ["ok"]);
});

test("D1: past the batch limit, one batch per migration, and the report says so (a small maxBatch, and the default 1000)", { timeout: 120_000 }, async () => {
  const small = await call(0, "/?db=D1_3&set=first&maxBatch=3");
  assert.equal(small.error, null, JSON.stringify(small.error));
  assert.equal(small.report.batches, "per-migration");
  assert.match(small.report.warnings.join("\n"), /one batch per migration: as one batch it would pass 3 statements, d1's limit/);
  assert.equal(small.snapshot[SNAP.log], "1,2");

  const large = await call(0, "/?db=D1_4&set=large");
  assert.equal(large.defaultMaxBatch, 1000);
  assert.equal(large.error, null, JSON.stringify(large.error));
  assert.equal(large.report.batches, "per-migration");
  assert.match(large.report.warnings.join("\n"), /would pass 1000 statements/);
  assert.equal(large.snapshot[SNAP.logRows], 4 + 4 * 300);

  // Under the limit: one batch, no warning.
  const whole = await call(0, "/?db=D1_5&set=first");
  assert.deepEqual([whole.report.batches, whole.report.warnings], ["one", []]);

  // Per migration, a failure keeps the migrations before it (and the report says why).
  const perStep = await call(0, "/?db=D1_6&set=broken&maxBatch=3");
  assert.equal(perStep.error?.code, "MIGRATION_FAILED");
  assert.deepEqual(perStep.snapshot[SNAP.versions], [rev(4)]);
});

test("Durable Object: the 1,200-statement run is one transactionSync (no batch limit)", { timeout: 60_000 }, async () => {
  const r = await call(0, "/do?name=large&set=large");
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.report.steps.length, 4);
  assert.equal(r.report.batches, undefined);
  assert.equal(r.snapshot[SNAP.logRows], 4 + 4 * 300);
});
