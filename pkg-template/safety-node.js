// `athanor/safety` in Node (and Deno / Bun through the "node" condition): the full wasm
// read from disk and instantiated synchronously on the first call. It is the glue module
// node.js loads for autogenerate too: a process that uses both instantiates it once.
import * as fullWasm from "./athanor_full.js";
import { safetyApi } from "./api.js";
import { resolveMigrations } from "./node-migrations.js";
import { builtin } from "./node-sqlite.js";

const { readFileSync } = builtin("node:fs");

const full = () => {
  fullWasm.initSync({ module: readFileSync(new URL("./athanor_full_bg.wasm", import.meta.url)) });
  return fullWasm;
};

export const { testMigrations, lintMigrations } = safetyApi(full, resolveMigrations);
/** Node needs no explicit init; kept so code shared with browsers can always call it. */
export async function init() {}
