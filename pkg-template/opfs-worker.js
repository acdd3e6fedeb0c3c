// The dedicated worker a page's openMigrator({ database }) starts: it owns the wasm, the
// OPFS pool and the migrator, and answers the page's calls (worker-client.js). The build
// bundles it with its imports into one file: a module worker finds its imports only as
// each module arrives, and those rounds delayed its start by about 10 ms (issue 14).
import initWasm, * as wasm from "./athanor.js";
import { openOpfsMigrator, opfsUnavailableReason, DEFAULT_DIRECTORY } from "./opfs.js";
import { readHeads } from "./opfs-heads.js";
import { Lease } from "./opfs-lease.js";
import { toMigrationError, MigrationError, WORKER_HINT } from "./errors.js";

let migrator;

// The pool's lock is asked for and its files opened now, while the page still compiles
// the wasm and sends it: the page names the pool's directory in the worker's name
// (web.js), and the wasm installs the pool on those files when it arrives.
let early = null;
let earlyDirectory;
// The heads remembered for the migrations parsed here before (opfs-heads.js), read as
// early.
let remembered;
try {
  const { directory } = JSON.parse(self.name.slice(self.name.indexOf("{")));
  if (typeof directory === "string" && opfsUnavailableReason() === null) {
    early = Lease.for(undefined, directory);
    early.take().catch(() => {});
    earlyDirectory = directory;
    remembered = readHeads(directory);
  }
} catch {
  // Started by something else: the lease is taken on "open".
}

const errorData = (e) => {
  const m = toMigrationError(e);
  return { message: String(m?.message ?? m), code: m?.code ?? "INTERNAL_ERROR", data: m?.data ?? {} };
};

self.onmessage = async ({ data: { id, op, method, args = [], progress } }) => {
  try {
    let result;
    if (op === "open") {
      // The page compiled the wasm while this worker started (a WebAssembly.Module), or
      // names the one its entry loads (web-api.js).
      const [set, options, wasmModule, wasmUrl] = args;
      await initWasm({ module_or_path: wasmModule ?? wasmUrl }).catch((e) => {
        const failed = new MigrationError(`the athanor worker could not load its wasm: ${e?.message ?? e}. ${WORKER_HINT}`, "WORKER_FAILED");
        // The lock taken early goes, and the files opened for the wasm close.
        early?.fail(failed);
        throw failed;
      });
      try {
        const sameDirectory = (options.directory === undefined ? DEFAULT_DIRECTORY : options.directory) === earlyDirectory;
        migrator = await openOpfsMigrator(wasm, set, options, sameDirectory ? remembered : undefined);
      } finally {
        // Unless it was this pool's (given the wasm above), the lock taken early goes.
        early?.fail(new MigrationError("the worker opened another pool", "INTERNAL_ERROR"));
      }
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
