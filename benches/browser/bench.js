// One measured page load (benches/browser_bench.mjs drives it): ?engine=athanor upgrades
// an OPFS database through the package; ?engine=official runs the same SQL in one
// transaction through @sqlite.org/sqlite-wasm's OPFS sahpool VFS in a worker;
// ?engine=bare only starts a worker that answers one message (the floor of any engine
// that keeps SQLite in a worker); ?engine=wasm also loads the migration set and has the
// worker instantiate athanor's embedded wasm, compiled by the page meanwhile (the floor
// of any engine running that wasm in a worker).
// Times are from navigation start (performance.now()) and from this module's start.
const moduleStart = performance.now();
const params = new URLSearchParams(location.search);
const set = params.get("set");

/** A worker's answer to one message. */
function ask(worker, message) {
  return new Promise((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.postMessage(message);
  });
}

async function run(engine) {
  if (engine === "bare") {
    await ask(new Worker(new URL("./bare-worker.js", import.meta.url), { type: "module" }), "ping");
    return { steps: 0 };
  }
  const { default: migrations, sql } = await import(`./sets/${set}.js`);
  if (engine === "wasm") {
    const worker = new Worker(new URL("./wasm-worker.js", import.meta.url), { type: "module" });
    const module = await WebAssembly.compileStreaming(fetch("/pkg/athanor_bg.wasm"));
    await ask(worker, module);
    return { steps: migrations.length ?? 0 };
  }
  if (engine === "athanor") {
    const { openMigrator } = await import("/pkg/web.js");
    const imported = performance.now();
    const m = await openMigrator({ database: `${set}.db`, directory: "bench-athanor", migrations });
    const opened = performance.now();
    const report = await m.upgrade("head");
    return { imported, opened, steps: report.steps.length };
  }
  const reply = await ask(new Worker(new URL("./official-worker.js", import.meta.url), { type: "module" }), { name: `/${set}.db`, sql });
  if (reply.error) throw new Error(reply.error);
  return { steps: reply.steps };
}

try {
  const result = await run(params.get("engine"));
  window.result = { moduleStart, ...result, end: performance.now() };
} catch (e) {
  window.result = { error: `${e.code ?? ""} ${e.message}` };
}
document.body.dataset.state = "done";
