#!/usr/bin/env node
// `npx athanor …`: a thin shim; the commands and their output live in the wasm.
import * as wasm from "./athanor.js";
import "./node.js";
import { nodeHost } from "./node-host.js";

const { stdout, stderr, status } = wasm.runCli(process.argv.slice(2), nodeHost);
process.stdout.write(stdout);
process.stderr.write(stderr);
process.exitCode = status;
