// The package as a bundler consumer meets it: `npm pack`ed, installed next to Vite in a
// fresh project (tests/js/vite-app/), built by `vite build` (the wasm must come out as a
// hashed asset that web.js's `new URL(..., import.meta.url)` points at), served over HTTP,
// and run in a real browser: Debian's headless Chromium (scripts/setup.sh installs it),
// driven by playwright-core, which never downloads a browser of its own. The same app also
// runs under `vite` (the dev server), which serves the package differently (pre-bundled).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CHROMIUM, CHROMIUM_ARGS, PLAYWRIGHT, serveStatic as serve, sleep } from "./support/browser.mjs";

const run = promisify(execFile);
const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const app = fileURLToPath(new URL("./vite-app/", import.meta.url));
const artifacts = fileURLToPath(new URL("../../target/test-artifacts/", import.meta.url));
// Exact pins, so the test cannot change under us: the last Vite 7 (esbuild + Rollup) and
// the current Vite 8 (Rolldown), installed side by side under npm aliases. Both need
// Node ^20.19 || >=22.12.
const VITES = { vite7: "7.3.8", vite8: "8.3.8" };
// The fixture app's migrations: the example app's first three, base to head.
const REVS = ["1a2b3c4d5e6f", "2b3c4d5e6f7a", "3c4d5e6f7a8b"];

let project, packDir, browser;
const servers = new Set();
const children = new Set();
const built = {};

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/setup.sh (apt package chromium)`);
  packDir = mkdtempSync(join(tmpdir(), "athanor-vite-pack-"));
  project = mkdtempSync(join(tmpdir(), "athanor-vite-"));
  await run("npm", ["pack", "--silent", "--pack-destination", packDir], { cwd: pkg, timeout: 30_000 });
  const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith(".tgz")));
  cpSync(app, project, { recursive: true });
  mkdirSync(join(project, "migrations"));
  const example = fileURLToPath(new URL("../../example/migrations/", import.meta.url));
  for (const f of readdirSync(example).filter((f) => REVS.some((r) => f.startsWith(r)))) cpSync(join(example, f), join(project, "migrations", f));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "vite-consumer", private: true, type: "module" }));
  const vites = Object.entries(VITES).map(([alias, v]) => `${alias}@npm:vite@${v}`);
  await run("npm", ["install", "--no-audit", "--no-fund", "--silent", "--save-exact", tarball, ...vites, PLAYWRIGHT], {
    cwd: project,
    timeout: 75_000,
    // Belt and braces: no tool may fetch a browser (npm 11 also skips install scripts).
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  });
});

after(async () => {
  // Every step bounded and independent, so one failure does not leak the rest.
  await Promise.race([browser?.close(), sleep(5_000)]).catch(() => {});
  for (const child of children) await stop(child);
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  for (const dir of [project, packDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const [vite, version] of Object.entries(VITES)) {
  const bin = () => join(project, "node_modules", vite, "bin", "vite.js");
  const outDir = `dist-${vite}`;
  // target/test-artifacts/vite-app.png is the Vite 7 production build; the rest are suffixed.
  const shot = vite === "vite7" ? "vite-app.png" : `vite-app-${vite}.png`;

  test(`vite ${version} build bundles the package and emits its wasm as a hashed asset`, { timeout: 60_000 }, async () => {
    const { stdout, stderr } = await run(process.execPath, [bin(), "build", "--outDir", outDir], {
      cwd: project,
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    const log = stdout + stderr;
    // main.js awaits at top level: the default build target must accept it. And Vite must
    // resolve web.js's wasm URL at build time, not leave it for the browser to guess.
    assert.doesNotMatch(log, /top-level await/i, log);
    assert.doesNotMatch(log, /doesn't exist at build time/i, log);
    assert.doesNotMatch(log, /externalized for browser compatibility/i, log);

    const dir = join(project, outDir, "assets");
    const assets = readdirSync(dir);
    const wasms = assets.filter((f) => f.endsWith(".wasm")).sort();
    // One copy of each: web.js and the wasm-bindgen glue both name athanor_bg.wasm; the
    // adapter wasm, for adapters, is a second asset (fetched only by them).
    assert.equal(wasms.length, 2, `expected two .wasm assets, got ${assets.join(", ")}`);
    assert.match(wasms[0], /^athanor_adapter_bg-[\w-]{6,}\.wasm$/);
    assert.match(wasms[1], /^athanor_bg-[\w-]{6,}\.wasm$/);
    assert.ok(readFileSync(join(dir, wasms[1])).equals(readFileSync(join(pkg, "athanor_bg.wasm"))), "the asset is not the package's wasm");
    assert.ok(readFileSync(join(dir, wasms[0])).equals(readFileSync(join(pkg, "athanor_adapter_bg.wasm"))), "the asset is not the package's adapter wasm");

    const js = assets.filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
    for (const w of wasms) assert.ok(js.includes(w), `no bundled JS references ${w}`);
    // The browser condition must win over "node": no Node built-ins in the bundle.
    assert.doesNotMatch(js, /["']node:/, "the Node entry leaked into the browser bundle");
    built[vite] = true;
  });

  test(`vite ${version}: the built app upgrades its schema in headless Chromium`, { timeout: 45_000 }, async () => {
    assert.ok(built[vite], "vite build did not succeed");
    const url = await serveStatic(join(project, outDir));
    const page = await load(url, shot);
    assertMigrated(page);
    // The hashed assets came with the wasm MIME type, so instantiateStreaming was usable.
    assert.deepEqual(page.wasms.map((w) => w.url.replace(/.*\/assets\/(\w+)-[\w-]+\.wasm$/, "$1")), ["athanor_bg", "athanor_adapter_bg"], page.report);
    for (const w of page.wasms) assert.equal(w.contentType, "application/wasm", page.report);
  });

  // Vite 7 pre-bundles dependencies for its dev server with esbuild, which copies web.js
  // into node_modules/.vite/deps/ and leaves `new URL("./athanor_bg.wasm", import.meta.url)`
  // pointing at a wasm that is not there (the SPA fallback answers with index.html). The
  // package README documents `optimizeDeps: { exclude: ["athanor"] }` for it; Vite 8
  // (Rolldown) needs nothing.
  const config = vite === "vite7" ? ["--config", "vite.exclude.config.js"] : [];
  test(`vite ${version} dev server: the app upgrades its schema${config.length ? " (README's optimizeDeps.exclude)" : ", no config"}`, { timeout: 45_000 }, async () => {
    await withDev(bin(), config, async (url) => assertMigrated(await load(url, `vite-app-dev-${vite}.png`)));
  });
}

/** What the fixture app shows once it has run: the upgrade, and the typed error. */
function assertMigrated(page) {
  assert.equal(page.fatal, null, `the app failed:\n${page.fatal}\n${page.report}`);
  assert.deepEqual(JSON.parse(page.out), { current: [REVS[2]], steps: REVS, history: [...REVS].reverse(), plan: true });
  assert.deepEqual(JSON.parse(page.err), { code: "UNKNOWN_REVISION", isMigrationError: true, isError: true, current: [] });
  assert.deepEqual(JSON.parse(page.adapter), { current: [REVS[2]], steps: REVS, tables: 1 });
  // A wrong MIME type or a failed load shows up here (wasm-bindgen warns, then falls back).
  assert.deepEqual(page.console.filter((l) => /^(error|warning|pageerror)/.test(l)), [], page.report);
}

/** Loads `url` in headless Chromium until the app marks itself done; screenshots it. */
async function load(url, screenshot) {
  if (!browser) {
    const { chromium } = await import(pathToFileURL(join(project, "node_modules", "playwright-core", "index.mjs")).href);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
  }
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const console_ = [];
    const wasms = [];
    page.on("console", (msg) => console_.push(`${msg.type()}: ${msg.text()}`));
    page.on("pageerror", (err) => console_.push(`pageerror: ${err.message}`));
    page.on("response", (r) => {
      if (r.url().endsWith(".wasm")) wasms.push({ url: r.url(), status: r.status(), contentType: r.headers()["content-type"] });
    });
    // An uncaught error (e.g. a module that fails to load, so main.js never runs) ends the
    // wait at once instead of at the selector timeout.
    const crashed = page.waitForEvent("pageerror", { timeout: 0 }).then((e) => {
      throw new Error(`page error before the app finished: ${e.message}\nconsole:\n${console_.join("\n")}`);
    });
    crashed.catch(() => {});
    await page.goto(url, { waitUntil: "load" });
    await Promise.race([page.waitForSelector("body[data-done]"), crashed]);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, screenshot), fullPage: true });
    const text = async (sel) => ((await page.locator(sel).count()) ? page.textContent(sel) : null);
    const report = `wasm responses: ${JSON.stringify(wasms)}\nconsole:\n${console_.join("\n")}`;
    return { out: await text("#out"), err: await text("#err"), adapter: await text("#adapter"), fatal: await text("#fatal"), console: console_, wasms, report };
  } finally {
    await context.close();
  }
}

/** Serves `root` until the tests end; resolves to its URL. */
async function serveStatic(root) {
  const { url, server } = await serve(root);
  servers.add(server);
  return url;
}

/** Runs `fn(url)` against `vite` (dev) for the project, stopped afterwards: one at a time,
 * since they share node_modules/.vite (and --force: never reuse another's pre-bundle). */
async function withDev(bin, args, fn) {
  const child = spawn(process.execPath, [bin, "--host", "127.0.0.1", "--force", ...args], {
    cwd: project,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  try {
    await fn(await devUrl(child));
  } finally {
    await stop(child);
  }
}

/** The URL the dev server prints once it listens. */
function devUrl(child) {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`vite dev did not start in 15 s:\n${log}`)), 15_000);
    const onData = (d) => {
      log += d;
      const m = /Local:\s+(http:\/\/\S+)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ""));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`vite dev exited (${code}):\n${log}`));
    });
  });
}

/** Ends a child we started: SIGTERM, then SIGKILL if it lingers past 3 s. */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  if (!(await Promise.race([exited.then(() => true), sleep(3_000).then(() => false)]))) child.kill("SIGKILL");
}
