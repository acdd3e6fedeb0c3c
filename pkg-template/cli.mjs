#!/usr/bin/env node
// `npx athanor …`: a thin shim; the commands and their output live in the wasm.
// Built-ins through process.getBuiltinModule (Node >= 22.3; engines says 22.13): an
// `import` of node:v8 or node:fs builds an ES-module facade, 3 ms each of every run.
const builtin = (name) => process.getBuiltinModule?.(name);

// A CLI run is short: V8's optimising tier would spend longer compiling the wasm than
// the run takes, and validating every function up front (1.5 ms) longer than those the
// run calls. Our own wasm, built valid; set before it is compiled (below).
(builtin("node:v8") ?? (await import("node:v8")).default).setFlagsFromString("--liftoff-only --wasm-lazy-validation");

const { readFileSync } = builtin("node:fs") ?? (await import("node:fs"));
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
