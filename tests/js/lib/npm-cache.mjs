// npm packages that tests need beside the package under test, installed once per exact
// version under target/js-deps (better-sqlite3 compiles SQLite from source for about a
// minute: no prebuilt binaries can be downloaded here). Each install goes into a temp
// dir first and is moved into place whole, so a half-done install is never reused.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cache = join(fileURLToPath(new URL("../../../", import.meta.url)), "target", "js-deps");

/** The directory whose node_modules holds `spec` (name@exact-version). `scripts`: run its
 * install scripts (npm 11 skips them unless asked). */
export function installed(spec, { scripts = false } = {}) {
  const dir = join(cache, spec.replace(/\//g, "+"));
  if (existsSync(join(dir, ".done"))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, ".tmp-"));
  try {
    writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "js-deps", private: true, type: "module" }));
    const args = ["install", "--silent", "--no-audit", "--no-fund", "--save-exact", spec];
    if (scripts) args.push("--ignore-scripts=false", "--foreground-scripts");
    execFileSync("npm", args, { cwd: tmp, stdio: ["ignore", "ignore", "pipe"], timeout: 600_000 });
    writeFileSync(join(tmp, ".done"), spec);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another test file finished the same install first: use that one.
      if (!existsSync(join(dir, ".done"))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
