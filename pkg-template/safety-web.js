// `athanor/safety` in browsers and bundlers: the full wasm (athanor_full_bg.wasm, about
// 680 KiB gzip) is fetched next to this file on the first call, or earlier with an
// explicit `await init()`. Only this entry names it, so a bundler emits it only for apps
// that import athanor/safety; `athanor` itself never references it.
import initFull, * as fullWasm from "./athanor_full.js";
import { safetyApi } from "./api.js";
import { MigrationError } from "./errors.js";

let ready;
/** Loads the full wasm once; `input` may be a URL, a Response, bytes or a WebAssembly.Module. */
export function init(input) {
  ready ??= initFull({ module_or_path: input ?? new URL("./athanor_full_bg.wasm", import.meta.url) }).then(
    () => fullWasm,
    (e) => {
      // A failed fetch may be retried by the next call.
      ready = undefined;
      throw new MigrationError(`cannot load athanor's full wasm (athanor_full_bg.wasm): ${e?.message ?? e}`, "IO_ERROR");
    },
  );
  return ready;
}

export const { testMigrations, lintMigrations } = safetyApi(() => init());
