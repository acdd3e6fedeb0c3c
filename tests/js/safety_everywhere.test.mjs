// `athanor/safety` (issue 15: `test` and `lint` "through the JS API in Node, the browser
// and workerd") as users meet it: the package `npm pack`ed and installed into a fresh
// project, and one scenario module importing "athanor/safety" run in each runtime:
//   - Node, resolving the "node" condition;
//   - headless Chromium (Debian's), the scenario bundled by esbuild with the "browser"
//     condition, the full wasm fetched next to the bundle as the entry's URL says;
//   - workerd (miniflare), bundled as Wrangler bundles (the "workerd" condition, the
//     .wasm a module of its own).
// Each runtime must give the same answers: testMigrations names the revision whose
// downgrade leaves a column behind, passes the example app's history, and
// lintMigrations classes tests/fixtures/lint/migrations.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CHROMIUM, CHROMIUM_ARGS, PLAYWRIGHT, serveStatic, sleep } from "./support/browser.mjs";
import { packedProject, WORKER_BUILD } from "./lib/packed.mjs";

const MINIFLARE = "miniflare@4.20260730.0";
const ESBUILD = "esbuild@0.28.2";
const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", timeout: 180_000, stdio: ["ignore", "pipe", "pipe"] });
const texts = (dir) => Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => [`./migrations/${f}`, readFileSync(join(dir, f), "utf8")]));

const exampleDir = fileURLToPath(new URL("../../example/migrations/", import.meta.url));
const example = texts(exampleDir);
// The example app's history plus a revision whose downgrade forgets its column.
const leaky = {
  ...example,
  "./migrations/8b9c0d1e2f3a_pin_notes.sql":
    "-- Revision ID: 8b9c0d1e2f3a\n-- Revises: 7a8b9c0d1e2f\n-- Message: pin notes\n\n-- migrate:upgrade\nALTER TABLE note ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n\n-- migrate:downgrade\nSELECT 1;\n",
};
const lint = texts(fileURLToPath(new URL("../fixtures/lint/migrations/", import.meta.url)));

// Run in every runtime; answers plain JSON so the three can be compared.
const SCENARIO = `
import { testMigrations, lintMigrations } from "athanor/safety";
import { example, leaky, lint } from "./fixtures.mjs";

const summary = (r) => ({
  passed: r.passed,
  tested: r.tested.map((t) => t.revision),
  cycle: r.cycle,
  failure: r.failure && { phase: r.failure.phase, revision: r.failure.revision, file: r.failure.file, changes: r.failure.changes, code: r.failure.error.code, isError: r.failure.error instanceof Error },
});
const finding = (f) => \`\${f.class} \${f.revision} \${f.file.split("/").pop()}:\${f.line > 0}\`;
const code = (p) => p.then(() => "resolved", (e) => e.code ?? String(e));

export async function scenario() {
  const linted = await lintMigrations(lint, { range: "base:heads" });
  return {
    example: summary(await testMigrations(example)),
    leaky: summary(await testMigrations(leaky, { seed: true })),
    // The array shape, and another version table name.
    arrays: (await testMigrations(Object.entries(example).map(([name, text]) => ({ name, text })), { versionTable: "my_versions" })).passed,
    lint: { revisions: linted.revisions, findings: linted.findings.map(finding), ignored: linted.ignored.map(finding) },
    notApplied: (await lintMigrations(lint, { rows: ["e5"] })).revisions,
    additive: (await lintMigrations(lint, { range: "b2:b2" })).findings,
    badRange: await code(lintMigrations(lint, { range: "nope:heads" })),
    badRows: await code(lintMigrations(lint, { rows: "e5" })),
    badMigrations: await code(testMigrations(42)),
  };
}
`;

const WORKER = `
import { scenario } from "./scenario.mjs";
export default {
  async fetch() {
    try {
      return Response.json(await scenario());
    } catch (e) {
      return new Response(String(e?.stack ?? e), { status: 500 });
    }
  },
};
`;

// The browser page: the scenario, and the main entry's memory migrator, whose wasm has
// no test/lint, pointing at athanor/safety.
const PAGE = `
import { scenario } from "./scenario.mjs";
import { openMigrator } from "athanor";
try {
  const result = await scenario();
  const said = (p) => p.then(() => "resolved", (e) => e.code + " " + e.message);
  const m = await openMigrator({ migrations: {} });
  result.memoryMigrator = [await said(m.test()), await said(m.lint())];
  // A named database: OPFS, behind the package's worker.
  const o = await openMigrator({ database: "safety.db", migrations: {} });
  result.opfsMigrator = [await said(o.test()), await said(o.lint()), await said(o.upgrade())];
  await o.close();
  window.result = result;
} catch (e) {
  window.result = { error: String(e?.stack ?? e) };
}
document.body.dataset.done = "1";
`;

let project;
let esbuild;
let req;
let browser;
let mf;
const servers = new Set();

before(async () => {
  const packed = packedProject("athanor-safety-", pkg, [MINIFLARE, ESBUILD, PLAYWRIGHT], { env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" } });
  project = packed.dir;
  req = packed.require;
  writeFileSync(join(project, "fixtures.mjs"), `export const example = ${JSON.stringify(example)};\nexport const leaky = ${JSON.stringify(leaky)};\nexport const lint = ${JSON.stringify(lint)};\n`);
  writeFileSync(join(project, "scenario.mjs"), SCENARIO);
  writeFileSync(join(project, "worker.js"), WORKER);
  writeFileSync(join(project, "page.js"), PAGE);
  writeFileSync(join(project, "main-only.js"), `import { openMigrator } from "athanor";\nconsole.log(await openMigrator({ migrations: {} }));\n`);
  esbuild = await import(pathToFileURL(req.resolve("esbuild")).href);
});

after(async () => {
  await Promise.race([browser?.close(), sleep(5_000)]).catch(() => {});
  await mf?.dispose().catch(() => {});
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  if (project) rmSync(project, { recursive: true, force: true });
});

/** What every runtime must answer. */
function check(result) {
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual({ ...result.example, tested: result.example.tested.sort() }, { passed: true, tested: Object.keys(example).map((f) => /\/(\w+?)_/.exec(f)[1]).sort(), cycle: "passed", failure: null });
  assert.equal(result.leaky.passed, false);
  assert.deepEqual(result.leaky.failure, {
    phase: "downgrade",
    revision: "8b9c0d1e2f3a",
    file: "./migrations/8b9c0d1e2f3a_pin_notes.sql",
    changes: ["add column note.pinned"],
    code: "ROUND_TRIP_FAILED",
    isError: true,
  });
  assert.equal(result.leaky.tested.length, 7, "the seven good revisions passed before it");
  assert.equal(result.arrays, true);
  assert.deepEqual(result.lint.revisions, ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]);
  assert.deepEqual([...new Set(result.lint.findings.map((f) => f.split(" ")[0]))].sort(), ["backward-incompatible", "data-dependent", "destructive", "non-transactional"]);
  assert.ok(result.lint.findings.includes("destructive c3 c3_destructive.sql:true"), result.lint.findings.join("\n"));
  assert.ok(!result.lint.findings.some((f) => f.split(" ")[1] === "b2"), "the additive migration has no findings");
  assert.ok(result.lint.ignored.some((f) => f.split(" ")[1] === "h8"), "lint-ignore accepts h8's finding");
  assert.deepEqual(result.notApplied, ["f6", "g7", "h8"]);
  assert.deepEqual(result.additive, []);
  assert.equal(result.badRange, "UNKNOWN_REVISION");
  assert.equal(result.badRows, "USAGE");
  assert.equal(result.badMigrations, "USAGE");
}

test("Node: athanor/safety resolves to the node entry and tests and lints", async () => {
  const resolved = sh("node", ["--input-type=module", "-e", 'console.log(import.meta.resolve("athanor/safety"))'], project).trim();
  assert.match(resolved, /node_modules\/athanor\/safety-node\.js$/);
  const { scenario } = await import(pathToFileURL(join(project, "scenario.mjs")).href);
  check(await scenario());
  // Node also takes a directory, as openMigrator does.
  const { testMigrations } = await import(pathToFileURL(join(project, "node_modules/athanor/safety-node.js")).href);
  assert.equal((await testMigrations(exampleDir)).passed, true);
  await assert.rejects(testMigrations(join(project, "no-such-dir")), { code: "IO_ERROR" });
});

test("browser: a bundle of athanor/safety fetches the full wasm and tests and lints in Chromium; athanor alone never names it", { timeout: 120_000 }, async () => {
  const out = join(project, "www");
  const common = { bundle: true, format: "esm", platform: "browser", conditions: ["browser"], logLevel: "silent", metafile: true };
  const main = await esbuild.build({ ...common, entryPoints: [join(project, "main-only.js")], outfile: join(project, "main-only", "app.js") });
  const mainJs = readFileSync(join(project, "main-only", "app.js"), "utf8");
  assert.ok(Object.keys(main.metafile.inputs).some((p) => p.endsWith("athanor/web.js")), "esbuild took the browser entry");
  assert.doesNotMatch(mainJs, /athanor_full/, "the main browser entry must not reference the full wasm");
  assert.match(mainJs, /athanor_bg\.wasm/);

  const built = await esbuild.build({ ...common, entryPoints: [join(project, "page.js")], outfile: join(out, "app.js") });
  assert.ok(Object.keys(built.metafile.inputs).some((p) => p.endsWith("athanor/safety-web.js")), "esbuild took athanor/safety's browser entry");
  assert.match(readFileSync(join(out, "app.js"), "utf8"), /athanor_full_bg\.wasm/);
  // esbuild leaves `new URL("./x", import.meta.url)` as it is: the package's files (the
  // wasms, and the OPFS worker with its modules) go next to the bundle.
  for (const f of readdirSync(join(project, "node_modules/athanor"))) copyFileSync(join(project, "node_modules/athanor", f), join(out, f));
  writeFileSync(join(out, "index.html"), '<!doctype html><meta charset="utf-8"><script type="module" src="./app.js"></script>');
  const { url, server } = await serveStatic(out);
  servers.add(server);

  const { chromium } = await import(pathToFileURL(join(project, "node_modules", "playwright-core", "index.mjs")).href);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
  const page = await browser.newPage();
  const crashed = page.waitForEvent("pageerror", { timeout: 0 }).then((e) => {
    throw e;
  });
  await page.goto(url, { waitUntil: "load" });
  await Promise.race([page.waitForSelector("body[data-done]", { state: "attached", timeout: 90_000 }), crashed]);
  const result = await page.evaluate(() => window.result);
  check(result);
  for (const [i, what] of ["test", "lint"].entries()) {
    assert.match(result.memoryMigrator[i], new RegExp(`^USAGE migrator\\.${what}\\(\\).*import \\{ ${what}Migrations \\} from "athanor/safety"`));
    assert.match(result.opfsMigrator[i], new RegExp(`^USAGE migrator\\.${what}\\(\\).*import \\{ ${what}Migrations \\} from "athanor/safety"`));
  }
  assert.equal(result.opfsMigrator[2], "resolved", "the OPFS migrator itself works");
});

test("workerd: a Worker bundled with athanor/safety's workerd entry tests and lints", { timeout: 120_000 }, async () => {
  const out = join(project, "dist");
  const result = await esbuild.build({
    entryPoints: [join(project, "worker.js")],
    ...WORKER_BUILD,
    metafile: true,
    outdir: out,
    logLevel: "silent",
  });
  assert.ok(Object.keys(result.metafile.inputs).some((p) => p.endsWith("athanor/safety-workerd.js")), "esbuild took athanor/safety's workerd entry");
  const js = readFileSync(join(out, "worker.js"), "utf8");
  const wasmName = /["']\.\/([\w.-]+\.wasm)["']/.exec(js)?.[1];
  assert.equal(wasmName, "athanor_full_bg.wasm");
  const { Miniflare } = await import(pathToFileURL(req.resolve("miniflare")).href);
  mf = new Miniflare({
    modules: [
      { type: "ESModule", path: join(project, "worker.js"), contents: js },
      { type: "CompiledWasm", path: join(project, wasmName), contents: readFileSync(join(project, "node_modules/athanor", wasmName)) },
    ],
    modulesRoot: project,
    compatibilityDate: "2025-04-01",
  });
  const res = await mf.dispatchFetch("http://localhost/");
  const body = await res.text();
  assert.equal(res.status, 200, body);
  check(JSON.parse(body));
});
