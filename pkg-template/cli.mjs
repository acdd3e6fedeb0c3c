#!/usr/bin/env node
// `npx athanor …`: a thin shim; the commands and their output live in the wasm.
import v8 from "node:v8";

// A CLI run is short: V8's optimising tier would spend longer compiling SQLite than
// the run takes. Set before the module is compiled (below).
v8.setFlagsFromString("--liftoff-only");

// The full wasm (the commands, autogenerate); --db opens through node:sqlite (node-host.js).
const wasm = await import("./athanor_full.js");
const { readFileSync } = await import("node:fs");
wasm.initSync({ module: readFileSync(new URL("./athanor_full_bg.wasm", import.meta.url)) });
const { nodeHost } = await import("./node-host.js");

const { stdout, stderr, status } = wasm.runCli(process.argv.slice(2), nodeHost);
process.stdout.write(stdout);
process.stderr.write(stderr);
process.exitCode = status;
