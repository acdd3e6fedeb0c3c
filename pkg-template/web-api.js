// Browsers and bundlers, shared by their two entries: web.js (SQLite without FTS5 and
// R*Tree, the smaller download) and web-extended.js (with them), which differ only in the
// wasm they load by default (the same Rust, so the same glue: athanor.js). The wasm is
// fetched on the first openMigrator(), or earlier with an explicit `await init()`.
// A named database lives in OPFS: from a page, in a dedicated worker this package
// starts; from the app's own dedicated worker, right there. Adapters (a host's own
// SQLite) run on the small adapter wasm instead, fetched on their first migrator.
// The package ships each entry bundled with these modules and its own copy of the glue
// (scripts/build_pkg.py), so both may load on one page, each with its own wasm.
import initWasm, * as wasm from "./athanor.js";
import { createApi, acceptMigrations, joined, MigrationError } from "./api.js";
import { openOpfsMigrator, opfsUnavailableReason, DEFAULT_DIRECTORY } from "./opfs.js";
import { WorkerMigrator } from "./worker-client.js";
import { bundleHeads } from "./heads.js";

/** `{ init, openMigrator }` loading `defaultWasm` (a URL) unless init() is given another. */
export function webApi(defaultWasm) {
  let ready;
  let wasmInput;
  /** Loads the wasm once; `input` may be a URL, a Response, bytes or a WebAssembly.Module. */
  function init(input) {
    wasmInput ??= input;
    ready ??= initWasm({ module_or_path: input ?? defaultWasm });
    return ready;
  }

  let adapterGlue;
  let adapterReady;
  /** The adapter wasm (the Planner, no SQLite: 105 KiB gzip against the embedded one's
   * 425), which the embedded wasm leaves out to keep the browser package small; its glue
   * is imported only here, so a page without adapters fetches neither. */
  function initAdapter() {
    adapterReady ??= import("./athanor_adapter.js").then(
      async (glue) => {
        await glue.default({ module_or_path: new URL("./athanor_adapter_bg.wasm", import.meta.url) });
        adapterGlue = glue;
      },
    ).catch((e) => {
      // A failed fetch may be retried by the next call.
      adapterReady = undefined;
      throw new MigrationError(`cannot load athanor's adapter wasm (athanor_adapter_bg.wasm): ${e?.message ?? e}`, "IO_ERROR");
    });
    return adapterReady;
  }

  const api = createApi({ adapter: () => adapterGlue, embedded: () => wasm });

  /** The wasm's URL: the one init() was given, else the entry's; null when init() was
   * given bytes, a Response or a module. */
  const wasmUrl = () => (wasmInput === undefined ? defaultWasm : typeof wasmInput === "string" || wasmInput instanceof URL ? wasmInput : null);

  let compiled;
  /** The wasm compiled here while the worker boots (both at once), then handed to it:
   * a WebAssembly.Module crosses postMessage. `undefined`: the worker loads it itself. */
  function compiledForWorker() {
    if (wasmInput instanceof WebAssembly.Module) return Promise.resolve(wasmInput);
    const url = wasmUrl();
    if (!url) return Promise.resolve(undefined);
    compiled ??= WebAssembly.compileStreaming(fetch(url))
      .catch(() => fetch(url).then((r) => r.arrayBuffer()).then((bytes) => WebAssembly.compile(bytes)))
      .catch(() => undefined);
    return compiled;
  }
  const inMemory = (database) => database == null || database === "" || database === ":memory:";

  /**
   * `openMigrator({ database: "app.db", migrations })` keeps the database in OPFS;
   * `storage: "memory"` (or no database) keeps it in memory, never persisted.
   */
  async function openMigrator(options = {}) {
    if (options.adapter) {
      await initAdapter();
      return api.openMigrator(options);
    }
    const { storage = inMemory(options.database) ? "memory" : "opfs" } = options;
    if (storage !== "opfs" && storage !== "memory") {
      throw new MigrationError(`storage must be "opfs" or "memory", not ${JSON.stringify(storage)}`, "USAGE");
    }
    if (storage === "memory") {
      await init();
      return api.openMigrator({ ...options, database: ":memory:" });
    }
    const { database, versionTable, transactionPerMigration, directory, onProgress } = options;
    // A bundle's heads go as a list: a message does not carry the symbol naming them.
    const heads = bundleHeads(options.migrations);
    const settings = { database, versionTable, transactionPerMigration, directory, heads };
    if (opfsUnavailableReason() !== "not in a dedicated worker") {
      // Already in a worker (or OPFS is missing: the same call says why).
      const set = joined(acceptMigrations(options.migrations));
      await init();
      return openOpfsMigrator(wasm, set, { ...settings, onProgress });
    }
    // A page's first worker takes tens of ms to start, the longest part of a page load
    // at head: it starts first, and the wasm compiles and the migrations are read meanwhile.
    // Its name carries the pool's directory: the worker takes the pool's lock and opens its
    // files at its first line, without waiting for the wasm (opfs-worker.js).
    const name = `athanor ${JSON.stringify({ database, directory: directory === undefined ? DEFAULT_DIRECTORY : directory })}`;
    const worker = new Worker(new URL("./opfs-worker.js", import.meta.url), { type: "module", name });
    const migrator = new WorkerMigrator(worker, onProgress);
    const module = compiledForWorker();
    let set;
    try {
      set = joined(acceptMigrations(options.migrations));
    } catch (e) {
      worker.terminate();
      throw e;
    }
    try {
      // Where the worker fetches the wasm when the page could not compile it for it.
      const fallback = String(wasmUrl() ?? defaultWasm);
      await migrator.post("open", undefined, [set, settings, await module, fallback]);
    } catch (e) {
      await migrator.close();
      throw e;
    }
    return migrator;
  }
  return { init, openMigrator };
}
