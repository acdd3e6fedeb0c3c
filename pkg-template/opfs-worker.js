// The dedicated worker a page's openMigrator({ database }) starts: it owns the wasm, the
// OPFS pool and the migrator, and answers the page's calls (worker-client.js).
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
      migrator = openOpfsMigrator(wasm, set, options);
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
