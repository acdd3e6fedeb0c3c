// The package in real workerd (through the npm `miniflare` package): `npm pack`ed,
// installed into a fresh project with miniflare, and loaded through its "workerd" export
// condition (the .wasm as a CompiledWasm module). Migrates a D1 binding from a Worker and
// a Durable Object's SQLite storage from its constructor.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const MINIFLARE = "miniflare@4.20260730.0";
const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const example = fileURLToPath(new URL("../../example/migrations", import.meta.url));
const HEAD = "7a8b9c0d1e2f";
const FIRST = "1a2b3c4d5e6f";
const SECOND = "2b3c4d5e6f7a";
let project;
let mf;

const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", timeout: 180_000, stdio: ["ignore", "pipe", "pipe"] });

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

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
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
  project = mkdtempSync(join(tmpdir(), "athanor-workerd-"));
  sh("npm", ["pack", "--silent", "--pack-destination", project], pkg);
  const tarball = readdirSync(project).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "workerd-consumer", private: true, type: "module" }));
  sh("npm", ["install", "--silent", "--no-audit", "--no-fund", "--save-exact", join(project, tarball), MINIFLARE], project);

  // npm 11 skips install scripts; workerd's postinstall only fetches the binary when its
  // platform optional dependency did not provide it.
  const requireFromProject = createRequire(join(project, "package.json"));
  const binary = () => {
    try {
      return sh("node", ["-p", 'require("workerd").default'], project).trim();
    } catch {
      return null;
    }
  };
  if (!binary() || !existsSync(binary())) sh("npm", ["rebuild", "workerd", "--foreground-scripts"], project);
  assert.ok(binary() && existsSync(binary()), `workerd binary missing (${binary()})`);

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
  for (const f of readdirSync(installed)) {
    if (f.endsWith(".js")) modules.push({ type: "ESModule", path: join(installed, f), contents: readFileSync(join(installed, f), "utf8") });
    if (f.endsWith(".wasm")) modules.push({ type: "CompiledWasm", path: join(installed, f), contents: readFileSync(join(installed, f)) });
  }

  const { Miniflare } = await import(pathToFileURL(requireFromProject.resolve("miniflare")).href);
  mf = new Miniflare({
    modules,
    modulesRoot: project,
    compatibilityDate: "2025-04-01",
    d1Databases: ["DB", "BROKEN"],
    durableObjects: {
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
  assert.deepEqual(bad.rows, [FIRST]);
  // The failing step's batch rolled back as a whole: its CREATE TABLEs are gone too.
  assert.ok(bad.tables.includes("note"), JSON.stringify(bad.tables));
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
