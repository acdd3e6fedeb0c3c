// The dedicated worker a page's openMigrator({ database }) starts: it owns the wasm, the
// OPFS pool and the migrator, and answers the page's calls (worker-client.js). The build
// bundles it with its imports into one file: a module worker finds its imports only as
// each module arrives, and those rounds delayed its start by about 10 ms (issue 14).
import initWasm, * as wasm from "./athanor.js";
import { openOpfsMigrator } from "./opfs.js";
import { toMigrationError, MigrationError, WORKER_HINT } from "./errors.js";

let migrator;

const errorData = (e) => {
  const m = toMigrationError(e);
  return { message: String(m?.message ?? m), code: m?.code ?? "INTERNAL_ERROR", data: m?.data ?? {} };
};

self.onmessage = async ({ data: { id, op, method, args = [], progress } }) => {
  try {
    let result;
    if (op === "open") {
      // The page compiled the wasm while this worker started (a WebAssembly.Module),
      // or left it to us.
      const [set, options, wasmModule] = args;
      await initWasm({ module_or_path: wasmModule ?? new URL("./athanor_bg.wasm", import.meta.url) }).catch((e) => {
        throw new MigrationError(`the athanor worker could not load its wasm: ${e?.message ?? e}. ${WORKER_HINT}`, "WORKER_FAILED");
      });
      migrator = await openOpfsMigrator(wasm, set, options);
    } else if (op === "close") {
      await migrator?.close();
      migrator = null;
    } else {
      // Progress crosses as messages; the page calls its own callback.
      const onProgress = progress ? (event) => self.postMessage({ id, progress: event }) : undefined;
      const last = method === "upgrade" || method === "downgrade" ? [...args, { onProgress }] : args;
      result = await migrator[method](...last);
    }
    self.postMessage({ id, ok: result });
  } catch (e) {
    self.postMessage({ id, error: errorData(e) });
  }
};
