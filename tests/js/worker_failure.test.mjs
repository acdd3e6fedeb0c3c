// A page whose package worker cannot run must not hang: every pending and later call
// rejects with WORKER_FAILED and advice (a Vite 7 dev server without the README's
// optimizeDeps.exclude serves the worker as a 404). Headless Chromium, copies of the
// package with a file missing.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixtureInChromium } from "./support/browser.mjs";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const fixture = fileURLToPath(new URL("./worker-failure/", import.meta.url));
const cleanup = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

const advice = /optimizeDeps: \{ exclude: \["athanor"\] \}/;

test("a failing package worker rejects every call with WORKER_FAILED; exec binds its params in the worker", { timeout: 120_000 }, async () => {
  const { url, context } = await fixtureInChromium({
    fixture,
    pkg,
    name: "worker-failure",
    cleanup,
    prepare: (site) => {
      cpSync(pkg, join(site, "no-worker"), { recursive: true, filter: (f) => !f.endsWith("/opfs-worker.js") });
      cpSync(pkg, join(site, "no-wasm"), { recursive: true, filter: (f) => !f.endsWith("/athanor_bg.wasm") });
    },
  });
  const run = async (which) => {
    const page = await context.newPage();
    await page.goto(`${url}?pkg=${which}`);
    await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 90_000 });
    const r = await page.evaluate(() => window.result);
    await page.close();
    assert.equal(r.error, undefined, r.error);
    return r;
  };

  // The worker's module is a 404: openMigrator rejects instead of hanging.
  const noWorker = await run("no-worker");
  assert.equal(noWorker.open.code, "WORKER_FAILED", JSON.stringify(noWorker.open));
  assert.match(noWorker.open.message, advice);
  // A call pending when the worker fails and every later one reject, for a load failure
  // and for a worker that dies after it started.
  for (const kind of ["missing", "crash"]) {
    for (const when of ["pending", "later"]) {
      const r = noWorker[kind][when];
      assert.equal(r.code, "WORKER_FAILED", `${kind} ${when}: ${JSON.stringify(r)}`);
      assert.match(r.message, advice);
    }
  }
  assert.match(noWorker.crash.pending.message, /boom/);

  // The worker loads but its wasm is a 404 (the page's own compile fails too).
  const noWasm = await run("no-wasm");
  assert.equal(noWasm.open.code, "WORKER_FAILED", JSON.stringify(noWasm.open));
  assert.match(noWasm.open.message, /could not load its wasm/);
  assert.match(noWasm.open.message, advice);

  // The intact package: exec's `?` is bound in the worker, not dropped (it was NULL).
  const ok = await run("pkg");
  assert.deepEqual(ok.upgrade, { ok: ["a1"] });
  assert.deepEqual(ok.exec, { ok: 1 });
  assert.deepEqual(ok.rows, { ok: [{ x: "bound" }] });
});
