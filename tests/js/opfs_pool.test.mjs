// The OPFS pool as a page's workers open it (headless Chromium): each worker takes the
// pool's Web Lock and opens the pool's files at its first line, before its wasm arrives
// (opfs-worker.js, opfs-lease.js), and the wasm installs the pool on those files
// (src/wasm/opfs.rs, vendor/sqlite-wasm-vfs). Several workers racing on a fresh pool
// still apply each migration once; a pool of several databases reopens intact.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { fixtureInChromium } from "./support/browser.mjs";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const fixture = fileURLToPath(new URL("./opfs-pool/", import.meta.url));
const cleanup = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function browser() {
  const { url, context } = await fixtureInChromium({ fixture, pkg, name: "opfs-pool", cleanup });
  const page = await context.newPage();
  return async (query) => {
    await page.goto(`${url}?${query}`);
    await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 60_000 });
    const r = await page.evaluate(() => window.result);
    assert.equal(r.error, undefined, r.error);
    return r;
  };
}

test("four workers started at once on a fresh pool: each migration applied once, all at head", { timeout: 120_000 }, async () => {
  const run = await browser();
  // Fresh pools, a nested directory among them: a few rounds of the race.
  for (const dir of ["race-1", "race-2", "nested/race-3"]) {
    const r = await run(`case=race&dir=${dir}`);
    assert.deepEqual(r.steps.sort(), [0, 0, 0, 3], `${dir}: ${JSON.stringify(r)}`);
    assert.deepEqual(r.currents, [["r2"], ["r2"], ["r2"], ["r2"]], dir);
    assert.deepEqual(r.applied, ["r0", "r1", "r2"].map((revision) => ({ revision, n: 1 })), dir);
  }
});

test("a pool of three databases reopens intact on the next load, its files opened by the worker", { timeout: 120_000 }, async () => {
  const run = await browser();
  await run("case=write&dir=several");
  for (let load = 0; load < 2; load++) {
    const r = await run("case=read&dir=several");
    assert.deepEqual(r.files, ["a.db", "b.db", "c.db"]);
    for (const db of ["a.db", "b.db", "c.db"]) {
      assert.deepEqual(r[db], { current: ["r2"], rows: [{ x: db }], check: [{ integrity_check: "ok" }] }, `load ${load}, ${db}`);
    }
  }
});

test("a bundle's heads: at head nothing is parsed (a text broken after bundling goes unnoticed), anything else parses first", { timeout: 120_000 }, async () => {
  const run = await browser();
  const r = await run("case=bundle&dir=bundle");
  assert.deepEqual(r.applied, ["r0", "r1", "r2"]);
  assert.deepEqual(r.atHead, { steps: [], before: ["r2"], after: ["r2"], warnings: [] });
  assert.deepEqual(r.atHeads, { steps: [], before: ["r2"], after: ["r2"], warnings: [] });
  assert.deepEqual(r.queried, [{ x: "app" }], "the app's SQL runs without a parse");
  assert.equal(r.down, "PARSE_ERROR", "a downgrade parses first");
  assert.deepEqual(r.afterDown, [{ n: 3 }], "and the app's SQL still runs after that failed");
  assert.equal(r.unbundled, "PARSE_ERROR", "without the heads the set is parsed when opened");
  assert.deepEqual(r.rows, ["r2"], "nothing was changed");
});

test("a parse is remembered beside the pool by the set's bytes: the next load of the same bytes at head parses nothing", { timeout: 120_000 }, async () => {
  const run = await browser();
  const r = await run("case=remembered&dir=remember");
  assert.deepEqual(r.applied, ["r0", "r1", "r2"]);
  assert.equal(r.written?.length, 1, JSON.stringify(r.written));
  assert.deepEqual(r.written[0][1], ["r2"], "the heads of the set parsed");
  assert.equal(r.trusted, 0, "an entry for those bytes is used as they are: nothing parsed, nothing run");
  assert.deepEqual(r.after, ["r3"], "without it the set is parsed and planned");
  assert.deepEqual(r.rememberedAfter?.[0]?.[1], ["r3"], `and that parse remembered: ${JSON.stringify(r)}`);
});

test("SQLite's FTS5 and R*Tree: refused by the default entry's wasm, which says where they are, and there in athanor/extended's", { timeout: 120_000 }, async () => {
  const run = await browser();
  const r = await run("case=extensions&dir=extensions");
  assert.equal(r.refused?.code, "MIGRATION_FAILED", JSON.stringify(r));
  assert.match(r.refused.message, /no such module: fts5 .*\(athanor's browser build leaves SQLite's FTS5 and R\*Tree out.*"athanor\/extended"/);
  assert.deepEqual(r.refused.rows, [], "nothing applied");
  assert.deepEqual(r.applied, ["s1"]);
  assert.deepEqual(r.found, [{ id: 1 }]);
  assert.deepEqual(r.boxed, [{ id: 1 }]);
});
