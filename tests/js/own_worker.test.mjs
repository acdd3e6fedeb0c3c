// OPFS from the app's own dedicated worker (the npm README's one line: call the same
// openMigrator there), in headless Chromium, sharing the database with a page-side
// migrator that the package runs in a worker of its own.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { fixtureInChromium } from "./support/browser.mjs";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const fixture = fileURLToPath(new URL("./own-worker/", import.meta.url));
const cleanup = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

test("openMigrator in the app's own worker runs there on OPFS, and hands the database to the page's migrator", { timeout: 90_000 }, async () => {
  const { url, context } = await fixtureInChromium({ fixture, pkg, name: "own-worker", cleanup });
  const page = await context.newPage();
  const workers = [];
  page.on("worker", (w) => workers.push(w.url()));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 60_000 });
  const r = await page.evaluate(() => window.result);
  assert.equal(r.error, undefined, JSON.stringify(r));
  assert.deepEqual(r.worker.ok, {
    steps: 2,
    events: ["start a1a1", "done a1a1", "start b2b2", "done b2b2"],
    current: ["b2b2"],
    workerKind: "DedicatedWorkerGlobalScope",
  });
  // The page's migrator found the database the app's worker upgraded, and each sees the other's writes.
  assert.equal(r.pageSteps, 0);
  assert.deepEqual(r.pageRows, [{ name: "from the worker" }]);
  assert.deepEqual(r.workerSees, { ok: [{ name: "from the worker" }, { name: "from the page" }] });
  // Eight databases in one pool (sqlite-wasm-vfs's default six slots would not hold them):
  // the pool grows as each is opened, and every one keeps its data.
  const many = Array.from({ length: 7 }, (_, i) => `many-${i}.db`);
  assert.deepEqual(r.many.ok, { steps: [2, 2, 2, 2, 2, 2, 2], files: [...many, "own.db"].sort(), first: [{ name: "from the worker" }, { name: "db 0" }] });
  // In the app's worker no second worker was started; the page's migrator started one.
  assert.deepEqual(workers.map((w) => w.split("/").pop()), ["own-worker.js", "opfs-worker.js"]);
});
