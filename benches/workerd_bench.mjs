// `make bench`: athanor at the edge. Run after `make pkg`.
//   - the Worker bundle: a Worker that imports athanor and a 50-revision migration module
//     (written by `athanor bundle`), bundled by esbuild with the `workerd` condition (as
//     Wrangler does), gzip size beside the 1 MiB budget;
//   - cold start to "at head" in workerd (miniflare) for an already-migrated D1 database
//     and Durable Object, beside the same Worker that only runs `SELECT 1`, and beside one
//     that reads the version table itself and compares it with the head it was built with
//     (the least any check at head does: its floor).
// Figures only: nothing here asserts a time.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { performance } from "node:perf_hooks";
import { createServer } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { packedProject, WORKER_BUILD } from "../tests/js/lib/packed.mjs";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../pkg/", import.meta.url));
const REVISIONS = 50;
const RUNS = Number(process.env.RUNS ?? 15);
const BUDGET = 1024 * 1024;
// The project: the packed athanor, esbuild and miniflare, exact versions.
const { dir: work, require: req } = packedProject("athanor-workerd-bench-", pkg, ["esbuild@0.28.2", "miniflare@4.20260730.0", "ws@8.23.0"]);
const sh = (cmd, args, cwd = work) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

try {
  // 50 revisions of realistic size, bundled by the CLI.
  const dir = join(work, "migrations");
  mkdirSync(dir);
  const hex = (i) => (i + 1).toString(16).padStart(12, "0");
  for (let i = 0; i < REVISIONS; i++) {
    const up = `CREATE TABLE t_${i} (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  created_at TEXT NOT NULL DEFAULT (datetime('now'))\n);\nCREATE INDEX t_${i}_name ON t_${i} (name);`;
    writeFileSync(join(dir, `${hex(i)}_step_${i}.sql`), `-- Revision ID: ${hex(i)}\n-- Revises: ${i ? hex(i - 1) : ""}\n-- Message: step ${i}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\nDROP TABLE t_${i};\n`);
  }
  sh("node", [join(work, "node_modules/athanor/cli.cjs"), "--dir", dir, "bundle", "-o", join(work, "migrations.js")]);

  writeFileSync(
    join(work, "worker.js"),
    `import { openMigrator, d1, durableObject } from "athanor";
import migrations from "./migrations.js";
const atHead = async (adapter) => (await openMigrator({ migrations, adapter })).upgrade("heads");
// The floor: the version table read and compared with the head, by hand.
const HEAD = "${hex(REVISIONS - 1)}";
const byHand = (rows) => ({ steps: rows.length === 1 && rows[0][0] === HEAD ? [] : null });
export class Notes {
  constructor(ctx) {
    this.ctx = ctx;
    if (MODE === "athanor") ctx.blockConcurrencyWhile(async () => { this.report = await atHead(durableObject(ctx.storage)); });
    if (MODE === "floor") this.report = byHand([...ctx.storage.sql.exec("SELECT version_num FROM alembic_version").raw()]);
  }
  async fetch() {
    return Response.json({ one: [...this.ctx.storage.sql.exec("SELECT 1").raw()][0][0], steps: this.report?.steps.length ?? null });
  }
}
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/do") return env.NOTES.get(env.NOTES.idFromName("bench")).fetch(request);
    const report = MODE === "athanor" ? await atHead(d1(env.DB)) : MODE === "floor" ? byHand(await env.DB.prepare("SELECT version_num FROM alembic_version").raw()) : null;
    const one = await env.DB.prepare("SELECT 1 AS one").first("one");
    return Response.json({ one, steps: report?.steps.length ?? null });
  },
};
`,
  );
  const esbuild = await import(pathToFileURL(req.resolve("esbuild")).href);
  const build = async (mode) => {
    const out = join(work, `dist-${mode}`);
    const result = await esbuild.build({
      entryPoints: [join(work, "worker.js")],
      ...WORKER_BUILD,
      define: { MODE: JSON.stringify(mode) },
      minify: !process.env.NO_MINIFY,
      metafile: true,
      outdir: out,
      logLevel: "silent",
    });
    return { out, inputs: Object.keys(result.metafile.inputs) };
  };
  const withAthanor = await build("athanor");
  const select1 = await build("select1");
  const floor = await build("floor");
  const entry = withAthanor.inputs.find((p) => p.endsWith("node_modules/athanor/workerd.js"));
  if (!entry) {
    throw new Error(`esbuild did not resolve athanor's "workerd" export (inputs: ${withAthanor.inputs.join(", ")})`);
  }
  const js = readFileSync(join(withAthanor.out, "worker.js"));
  // The wasm the bundle imports (external: workerd loads it as a CompiledWasm module).
  const wasmName = /["']\.\/([\w.-]+\.wasm)["']/.exec(js.toString())?.[1];
  if (!wasmName) throw new Error("the Worker bundle imports no .wasm");
  const wasm = readFileSync(join(work, "node_modules/athanor", wasmName));
  const gz = (b) => gzipSync(b, { level: 9 }).length;
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const total = gz(js) + gz(wasm);
  console.log(`esbuild resolved "athanor" through its workerd condition (node_modules/athanor/workerd.js)`);
  console.log(`Worker bundle, athanor + ${REVISIONS} revisions: JS ${kib(js.length)} (${kib(gz(js))} gzip), wasm ${wasmName} ${kib(wasm.length)} (${kib(gz(wasm))} gzip); total ${kib(total)} gzip (${(total / 1000).toFixed(1)} KB; issue 14's goal: 120 KB): ${total <= BUDGET ? "within" : "OVER"} the 1 MiB budget (${((total / BUDGET) * 100).toFixed(0)}%)`);
  console.log(`the same Worker without athanor (SELECT 1 only): JS ${kib(readFileSync(join(select1.out, "worker.js")).length)}`);

  // Cold starts: a new workerd process per run, on a database migrated beforehand.
  const { Miniflare } = await import(pathToFileURL(req.resolve("miniflare")).href);
  const persist = join(work, "persist");
  const options = (dist) => ({
    modules: [
      { type: "ESModule", path: join(work, "worker.js"), contents: readFileSync(join(dist, "worker.js"), "utf8") },
      { type: "CompiledWasm", path: join(work, wasmName), contents: wasm },
    ],
    modulesRoot: work,
    compatibilityDate: "2025-04-01",
    d1Databases: ["DB"],
    d1Persist: join(persist, "d1"),
    durableObjects: { NOTES: { className: "Notes", useSQLite: true } },
    durableObjectsPersist: join(persist, "do"),
  });
  const fetchJson = async (mf, path) => (await mf.dispatchFetch(`http://localhost${path}`)).json();
  const first = new Miniflare(options(withAthanor.out));
  const migrated = [await fetchJson(first, "/"), await fetchJson(first, "/do")];
  await first.dispose();
  if (migrated.some((r) => r.steps !== REVISIONS)) throw new Error(`setup did not migrate: ${JSON.stringify(migrated)}`);

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  /** One cold start: workerd ready, then the first request (ms each). */
  async function cold(dist, path) {
    const t0 = performance.now();
    const mf = new Miniflare(options(dist));
    await mf.ready;
    const t1 = performance.now();
    const body = await fetchJson(mf, path);
    const t2 = performance.now();
    await mf.dispose();
    if (body.one !== 1 || (dist !== select1.out && body.steps !== 0)) throw new Error(`unexpected ${JSON.stringify(body)}`);
    return { start: t1 - t0, request: t2 - t1 };
  }
  /** The first request's CPU time in the Worker's isolate, from V8's sampling profiler
   * over the inspector (workerd's own clocks stand still while code computes): the
   * sampled time that is not idle. */
  const { default: WebSocket } = await import(pathToFileURL(req.resolve("ws")).href);
  const freePort = () =>
    new Promise((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
    });
  async function requestCpu(dist, path, i) {
    const port = await freePort();
    const mf = new Miniflare({ ...options(dist), inspectorPort: port });
    await mf.ready;
    const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
    const target = targets.find((t) => /core:user/.test(t.title)) ?? targets[0];
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    let id = 0;
    const pending = new Map();
    ws.on("message", (m) => {
      const msg = JSON.parse(m);
      pending.get(msg.id)?.(msg.result);
    });
    const send = (method, params = {}) => new Promise((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 50 });
    await send("Profiler.start");
    const body = await fetchJson(mf, path);
    const { profile } = await send("Profiler.stop");
    ws.close();
    await mf.dispose();
    if (body.one !== 1) throw new Error(`unexpected ${JSON.stringify(body)}`);
    if (process.env.PROFILE_DIR) writeFileSync(join(process.env.PROFILE_DIR, `${path === "/" ? "d1" : "do"}-${dist.split("dist-").pop()}-${i}.cpuprofile`), JSON.stringify(profile));
    const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
    const busy = profile.samples.reduce((sum, node, k) => sum + (idle.has(node) ? 0 : profile.timeDeltas[k] ?? 0), 0);
    return busy / 1000;
  }

  /** Each measure of the three Workers, a round of all three at a time (this machine's
   * speed drifts over seconds: blocks of runs of one, then of another, measured the
   * drift): medians, and the median of each round's difference to the SELECT 1 Worker. */
  async function interleaved(measure, path) {
    const rounds = [];
    for (let i = 0; i < RUNS; i++) rounds.push([await measure(withAthanor.out, path, i), await measure(select1.out, path, i), await measure(floor.out, path, i)]);
    const of = (k, f = (x) => x) => median(rounds.map((r) => f(r[k])));
    const over = (k, f = (x) => x) => median(rounds.map((r) => f(r[k]) - f(r[1])));
    return { of, over };
  }

  console.log(`cold start in workerd (miniflare), medians of ${RUNS} rounds (each round: the three Workers one after another): workerd ready, then the first request (isolate start, script and wasm load, the request)`);
  for (const [label, path] of [["D1", "/"], ["Durable Object", "/do"]]) {
    const wall = await interleaved(cold, path);
    const start = (x) => x.start;
    const request = (x) => x.request;
    console.log(`  ${label.padEnd(15)} at head (${REVISIONS} revisions, nothing to do): ready ${wall.of(0, start).toFixed(0)} ms + first request ${wall.of(0, request).toFixed(1)} ms`);
    console.log(`  ${label.padEnd(15)} SELECT 1 only:                           ready ${wall.of(1, start).toFixed(0)} ms + first request ${wall.of(1, request).toFixed(1)} ms`);
    console.log(`  ${label.padEnd(15)} the version table read by hand (floor):  ready ${wall.of(2, start).toFixed(0)} ms + first request ${wall.of(2, request).toFixed(1)} ms`);
    // workerd's clocks stand still while code computes, so CPU cannot be read inside it;
    // the first request's extra wall time bounds the CPU the check adds (it also holds
    // the version-table read's I/O). The Workers free plan allows 10 ms CPU a request.
    const cpu = await interleaved(requestCpu, path);
    console.log(`  ${label.padEnd(15)} first request's CPU in the isolate (V8 profiler): at head ${cpu.of(0).toFixed(1)} ms, SELECT 1 only ${cpu.of(1).toFixed(1)} ms, the version table by hand ${cpu.of(2).toFixed(1)} ms (Workers free plan: 10 ms CPU a request)`);
    console.log(`  ${label.padEnd(15)} over SELECT 1 (median of the rounds' differences): the at-head check adds ${cpu.over(0).toFixed(1)} ms CPU (issue 14's goal: <= 2 ms) and ${wall.over(0, request).toFixed(1)} ms wall time to the first request; reading the version table by hand adds ${cpu.over(2).toFixed(1)} ms CPU and ${wall.over(2, request).toFixed(1)} ms wall time`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
