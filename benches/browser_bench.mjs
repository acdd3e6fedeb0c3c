// `make bench`, in the browser (Debian's headless Chromium, OPFS on a fresh profile):
//   - page load to "database at head" for the demo's migrations and for 1,000 generated
//     ones, through athanor, beside the same SQL in one transaction through the official
//     @sqlite.org/sqlite-wasm build and its OPFS sahpool VFS;
//   - the at-head check on a warm reload (1,000 revisions), from module start to ready,
//     beside a bare worker's round trip on the same page, measured in the same run.
// Prints figures; asserts nothing about speed. Run after `make pkg`. BENCH_SETS=n1000 measures
// one set, BENCH_COLD_RUNS=1 takes one fresh profile per engine (quicker, noisier).
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CHROMIUM, CHROMIUM_ARGS, PLAYWRIGHT, serveStatic } from "../tests/js/support/browser.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const OFFICIAL = "@sqlite.org/sqlite-wasm@3.54.1-build1";
const N = 1000;
const WARM_RUNS = 7;
// Fresh profiles per engine and set (a cold load is one sample each: take the median).
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 3);

// Tools, pinned, installed once under target/ (never a downloaded browser).
const tools = join(root, "target/bench-browser");
if (!existsSync(join(tools, "node_modules/@sqlite.org/sqlite-wasm")) || !existsSync(join(tools, "node_modules/playwright-core"))) {
  mkdirSync(tools, { recursive: true });
  writeFileSync(join(tools, "package.json"), JSON.stringify({ name: "athanor-browser-bench", private: true }));
  execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", "--save-exact", OFFICIAL, PLAYWRIGHT], {
    cwd: tools,
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  });
}

// The site: the bench page, the package, the official build, and the migration sets as
// modules (texts, and the SQL of the whole upgrade for the baseline).
const site = mkdtempSync(join(tmpdir(), "athanor-browser-bench-"));
cpSync(join(root, "benches/browser"), join(site, "bench"), { recursive: true });
symlinkSync(pkg, join(site, "pkg"));
symlinkSync(join(tools, "node_modules"), join(site, "node_modules"));
mkdirSync(join(site, "bench/sets"));
const { openMigrator } = await import(pathToFileURL(join(pkg, "node.js")).href);

async function writeSet(name, texts) {
  const m = await openMigrator({ migrations: texts });
  const sql = m.plan("heads", { from: [] });
  m.close();
  writeFileSync(join(site, "bench/sets", `${name}.js`), `export default ${JSON.stringify(texts)};\nexport const sql = ${JSON.stringify(sql)};\n`);
}

const demoDir = join(root, "www/migrations");
await writeSet("demo", Object.fromEntries(readdirSync(demoDir).map((f) => [f, readFileSync(join(demoDir, f), "utf8")])));
const hex = (i) => i.toString(16).padStart(12, "0");
const generated = {};
for (let i = 0; i < N; i++) {
  generated[`${hex(i)}_step_${i}.sql`] =
    `-- Revision ID: ${hex(i)}\n-- Revises: ${i ? hex(i - 1) : ""}\n-- Message: step ${i}\n\n-- migrate:upgrade\n` +
    `CREATE TABLE t_${i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO t_${i} (name) VALUES ('row ${i}');\n\n-- migrate:downgrade\nDROP TABLE t_${i};\n`;
}
await writeSet(`n${N}`, generated);
// The same 1,000 as `athanor bundle` writes them for an app (its heads named: at head the
// worker parses nothing), through the package's CLI.
const bundleDir = mkdtempSync(join(tmpdir(), "athanor-bench-bundle-"));
for (const [name, text] of Object.entries(generated)) writeFileSync(join(bundleDir, name), text);
const bundleFile = join(site, `bench/sets/n${N}-bundle.js`);
execFileSync(process.execPath, [join(pkg, "cli.cjs"), "--dir", bundleDir, "bundle", "-o", bundleFile], { stdio: "ignore" });
// The page imports `sql` from every set (the official engine's baseline runs it).
appendFileSync(bundleFile, `export const sql = "";\n`);
rmSync(bundleDir, { recursive: true, force: true });

const { url, server } = await serveStatic(site);
const { chromium } = await import(pathToFileURL(join(tools, "node_modules/playwright-core/index.mjs")).href);

/** A fresh profile: one cold load, then warm reloads (the database already at head). */
async function measureOnce(engine, set, warmRuns) {
  const profile = mkdtempSync(join(tmpdir(), "athanor-bench-profile-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => a !== "--headless"), headless: true });
  try {
    const page = await context.newPage();
    const log = [];
    page.on("console", (m) => log.push(m.text()));
    page.on("pageerror", (e) => log.push(e.message));
    const once = async () => {
      await page.goto(`${url}bench/?engine=${engine}&set=${set}`);
      await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 120_000 }).catch((e) => {
        throw new Error(`${engine} ${set}: ${e.message}\n${log.join("\n")}`);
      });
      const r = await page.evaluate(() => window.result);
      if (r.error) throw new Error(`${engine} ${set}: ${r.error}`);
      return r;
    };
    const cold = await once();
    const warm = [];
    for (let i = 0; i < warmRuns; i++) warm.push(await once());
    return { cold, warm };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Cold loads on COLD_RUNS fresh profiles (median), warm reloads on the first. */
async function measure(engine, set) {
  const runs = [];
  for (let i = 0; i < COLD_RUNS; i++) runs.push(await measureOnce(engine, set, i === 0 ? WARM_RUNS : 0));
  return { cold: { end: median(runs.map((r) => r.cold.end)) }, warm: runs[0].warm };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;
try {
  for (const set of process.env.BENCH_SETS ? process.env.BENCH_SETS.split(",") : ["demo", `n${N}`]) {
    const a = await measure("athanor", set);
    const o = await measure("official", set);
    console.log(
      `browser, fresh profile, page load to at head (${set === "demo" ? "the demo's 6 migrations" : `${N} migrations`}), median of ${COLD_RUNS}: ` +
        `official sqlite-wasm ${ms(o.cold.end)}, athanor ${ms(a.cold.end)}, ratio ${(a.cold.end / o.cold.end).toFixed(2)} (goal <= 1.2)`,
    );
    const b = await measureOnce("bare", set, WARM_RUNS);
    const w = await measureOnce("wasm", set, WARM_RUNS);
    const warm = a.warm.map((r) => r.end - r.moduleStart);
    const warmOfficial = o.warm.map((r) => r.end - r.moduleStart);
    const bare = median(b.warm.map((r) => r.end - r.moduleStart));
    const floor = median(w.warm.map((r) => r.end - r.moduleStart));
    console.log(
      `browser, warm reload at-head check (${set}): athanor module start to ready median ${ms(median(warm))} (best ${ms(Math.min(...warm))}), ` +
        `a bare worker's round trip ${ms(bare)}: athanor - bare ${ms(median(warm) - bare)} (goal <= 25 ms); ` +
        `of which the set's and web.js's import ${ms(median(a.warm.map((r) => r.imported - r.moduleStart)))}, to openMigrator's answer ${ms(median(a.warm.map((r) => r.opened - r.moduleStart)))}; official sqlite-wasm same page ${ms(median(warmOfficial))}; ` +
        `floor (the set loaded, a worker that instantiates athanor's wasm, compiled by the page meanwhile) ${ms(floor)}: athanor - floor ${ms(median(warm) - floor)}`,
    );
    if (set === `n${N}`) {
      const bundled = (await measureOnce("athanor", `n${N}-bundle`, WARM_RUNS)).warm.map((r) => r.end - r.moduleStart);
      console.log(
        `browser, warm reload at-head check (n${N} from \`athanor bundle\`, its heads named: nothing parsed at head): athanor median ${ms(median(bundled))} ` +
          `(best ${ms(Math.min(...bundled))}): athanor - bare ${ms(median(bundled) - bare)} (goal <= 25 ms), athanor - floor ${ms(median(bundled) - floor)}`,
      );
    }
  }
} finally {
  server.close();
  rmSync(site, { recursive: true, force: true });
}
