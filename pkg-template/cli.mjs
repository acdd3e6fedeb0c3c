#!/usr/bin/env node
// `npx athanor …`: a thin shim; the commands and their output live in the wasm.
import v8 from "node:v8";

// A CLI run is short: V8's optimising tier would spend longer compiling the wasm than
// the run takes. Set before the module is compiled (below).
v8.setFlagsFromString("--liftoff-only");

const { readFileSync } = await import("node:fs");
const { nodeHost } = await import("./node-host.js");
const argv = process.argv.slice(2);

/** Runs the command line with one of the package's wasms. */
async function run(glue, file) {
  const wasm = await import(glue);
  wasm.initSync({ module: readFileSync(new URL(file, import.meta.url)) });
  return wasm.runCli(argv, nodeHost);
}

// The lean wasm (the commands without autogenerate or SQLite: --db is node:sqlite,
// node-host.js); revision --autogenerate, check and adopt need the full one.
let out = await run("./athanor_cli.js", "./athanor_cli_bg.wasm");
if (out.needsFull) out = await run("./athanor_full.js", "./athanor_full_bg.wasm");
process.stdout.write(out.stdout);
process.stderr.write(out.stderr);
process.exitCode = out.status;
