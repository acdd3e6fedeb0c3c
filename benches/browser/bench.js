// One measured page load (benches/browser_bench.mjs drives it): ?engine=athanor upgrades
// an OPFS database through the package; ?engine=official runs the same SQL in one
// transaction through @sqlite.org/sqlite-wasm's OPFS sahpool VFS in a worker.
// Times are from navigation start (performance.now()) and from this module's start.
const moduleStart = performance.now();
const params = new URLSearchParams(location.search);
const set = params.get("set");
const done = (result) => {
  window.result = { moduleStart, ...result, end: performance.now() };
  document.body.dataset.state = "done";
};

try {
  const { default: migrations, sql } = await import(`./sets/${set}.js`);
  if (params.get("engine") === "athanor") {
    const { openMigrator } = await import("/pkg/web.js");
    const m = await openMigrator({ database: `${set}.db`, directory: "bench-athanor", migrations });
    const opened = performance.now();
    const report = await m.upgrade("head");
    done({ opened, steps: report.steps.length });
  } else {
    const worker = new Worker(new URL("./official-worker.js", import.meta.url), { type: "module" });
    const reply = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ name: `/${set}.db`, sql });
    });
    if (reply.error) throw new Error(reply.error);
    done({ steps: reply.steps });
  }
} catch (e) {
  window.result = { error: `${e.code ?? ""} ${e.message}` };
  document.body.dataset.state = "done";
}
