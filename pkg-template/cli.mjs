#!/usr/bin/env node
// `npx athanor …`: a thin shim; the commands and their output live in the wasm.
import v8 from "node:v8";

// A CLI run is short: V8's optimising tier would spend longer compiling SQLite than
// the run takes. Set before the module is compiled (by node.js, imported below).
v8.setFlagsFromString("--liftoff-only");

const wasm = await import("./athanor.js");
await import("./node.js");
const { nodeHost } = await import("./node-host.js");

const { stdout, stderr, status } = wasm.runCli(process.argv.slice(2), nodeHost);
process.stdout.write(stdout);
process.stderr.write(stderr);
process.exitCode = status;
