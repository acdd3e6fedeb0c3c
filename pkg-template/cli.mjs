#!/usr/bin/env node
// `npx athanor …`: a thin shim; the commands and their output live in the wasm.
// The package ships this file bundled as CommonJS, with what it imports (cli.cjs,
// scripts/build_pkg.py): Node starts a CommonJS entry about 3 ms sooner than an ES
// module, and loads one file instead of six.
import { nodeHost } from "./node-host.js";
import { builtin } from "./node-sqlite.js";
import * as lean from "./athanor_cli.js";

// A CLI run is short: V8's optimising tier would spend longer compiling the wasm than
// the run takes, and validating every function up front (1.5 ms) longer than those the
// run calls. Our own wasm, built valid; set before it is compiled (below).
builtin("node:v8").setFlagsFromString("--liftoff-only --wasm-lazy-validation");

const { readFileSync, writeSync } = builtin("node:fs");
const argv = process.argv.slice(2);

/** Runs the command line with one of the package's wasms: its arguments go in as one
 * string, each ended by a NUL (none holds one); the status, stdout and stderr come back
 * as bytes (src/wasm/cli.rs), empty when the command needs the full wasm. */
function run(wasm, file) {
  wasm.initSync({ module: readFileSync(new URL(file, import.meta.url)) });
  return wasm.runCli(argv.map((a) => `${a}\0`).join(""), nodeHost);
}

/** Writes `bytes` to `fd` (1 or 2) with plain writes: process.stdout and process.stderr
 * load Node's streams on first use, 3 ms of every run. What a non-blocking pipe cannot
 * take now (EAGAIN) goes on through the stream, which waits for it; a reader that has
 * gone (EPIPE, as under `| head`) gets nothing more. True when a stream holds the rest. */
function put(fd, bytes) {
  if (!bytes.length) return false;
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(fd, bytes, at);
  } catch (e) {
    if (e.code === "EAGAIN") {
      (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(at));
      return true;
    }
    if (e.code !== "EPIPE") throw e;
  }
  return false;
}

function finish(out) {
  const stdout = 5 + new DataView(out.buffer, out.byteOffset).getUint32(1, true);
  const queued = put(1, out.subarray(5, stdout)) | put(2, out.subarray(stdout));
  // All written (the database closed by the wasm): exit now, without Node's teardown of
  // the environment (2 ms). Output a stream still holds is waited for.
  if (queued) process.exitCode = out[0];
  else process.exit(out[0]);
}

// The lean wasm (the commands without autogenerate or SQLite: --db is node:sqlite,
// node-host.js); revision --autogenerate, check and adopt need the full one.
const out = run(lean, "./athanor_cli_bg.wasm");
if (!out.length) import("./athanor_full.js").then((full) => finish(run(full, "./athanor_full_bg.wasm")));
else finish(out);
