// The error every failure becomes: a stable `code` plus the details in `data`.

/** Every failure is a MigrationError with a stable `code` (see ErrorCode in index.d.ts). */
export class MigrationError extends Error {
  constructor(message, code, data = {}) {
    super(message);
    this.name = "MigrationError";
    this.code = code;
    this.data = data;
    Object.assign(this, data);
  }
}

/** Why `migrator.test()`, `lint()` or `adopt()` (`what`) is not on this entry: its wasm
 * leaves them out; test and lint are in `athanor/safety` everywhere. */
export function safetyUnavailable(what) {
  const where = what === "adopt" ? "" : `; elsewhere, import { ${what}Migrations } from "athanor/safety"`;
  return new MigrationError(`migrator.${what}() runs in Node and the CLI (\`athanor ${what}\`): this entry's wasm leaves it out${where}`, "USAGE");
}

/** `test`, `lint` and `adopt` for migrators whose wasm has none (OPFS databases): each
 * rejects with USAGE. Mixed into their classes. */
export const withoutSafety = {
  test: () => Promise.reject(safetyUnavailable("test")),
  lint: () => Promise.reject(safetyUnavailable("lint")),
  adopt: () => Promise.reject(safetyUnavailable("adopt")),
};

/** What to do when the package's worker or its wasm does not load (WORKER_FAILED). */
export const WORKER_HINT =
  'opfs-worker.js and athanor_bg.wasm must be served from the package\'s own directory: with Vite\'s dev server, set optimizeDeps: { exclude: ["athanor"] } and worker: { format: "es" } in vite.config.js';

export function toMigrationError(e) {
  if (e instanceof MigrationError) return e;
  if (e && typeof e === "object" && typeof e.code === "string") {
    return new MigrationError(e.message, e.code, e.data ?? {});
  }
  // A trap inside the wasm (a bug) leaves the instance unreliable: say so plainly.
  if (e instanceof WebAssembly.RuntimeError) {
    return new MigrationError(`internal error in the athanor wasm module: ${e.message}`, "INTERNAL_ERROR");
  }
  return e;
}


/** Runs `fn`, turning what the wasm throws into a MigrationError. */
export function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw toMigrationError(e);
  }
}
