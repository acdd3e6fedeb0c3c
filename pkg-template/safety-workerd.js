// `athanor/safety` in Cloudflare Workers: the full wasm imported as a compiled
// WebAssembly.Module (as workerd.js imports the adapter wasm), instantiated on the first
// call, so a Worker that imports it but does not call it pays no instantiation.
import wasmModule from "./athanor_full_bg.wasm";
import * as fullWasm from "./athanor_full.js";
import { safetyApi } from "./api.js";

const full = () => {
  fullWasm.initSync({ module: wasmModule });
  return fullWasm;
};

export const { testMigrations, lintMigrations } = safetyApi(full);
export async function init() {}
