// A project as a user makes one: the package packed with `npm pack` and installed from
// the tarball into a fresh directory, beside pinned `deps`. workerd's binary is made
// sure of where miniflare is among them (npm 11 skips install scripts; workerd's
// postinstall fetches the binary only when its platform's optional dependency did not
// bring it).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sh = (cmd, args, cwd, env) => execFileSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 180_000, stdio: ["ignore", "pipe", "pipe"] });

/** `{ dir, require }`: a new project under the temp dir (`prefix`) with `pkg` packed and
 * installed, and `deps` (exact `name@version`s). `env`: for npm install. */
export function packedProject(prefix, pkg, deps = [], { env } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  sh("npm", ["pack", "--silent", "--pack-destination", dir], pkg);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer-app", private: true, type: "module" }));
  sh("npm", ["install", "--silent", "--no-audit", "--no-fund", "--save-exact", join(dir, tarball), ...deps], dir, env);
  if (deps.some((d) => d.startsWith("miniflare@"))) {
    const binary = () => {
      try {
        return sh("node", ["-p", 'require("workerd").default'], dir).trim();
      } catch {
        return null;
      }
    };
    if (!binary() || !existsSync(binary())) sh("npm", ["rebuild", "workerd", "--foreground-scripts"], dir);
    if (!binary() || !existsSync(binary())) throw new Error(`workerd binary missing (${binary()})`);
  }
  return { dir, require: createRequire(join(dir, "package.json")) };
}

/** esbuild's options for a Worker as Wrangler bundles one: its conditions, and each .wasm
 * left a module of its own (CompiledWasm). Spread, then add entry points and output. */
export const WORKER_BUILD = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  external: ["*.wasm"],
};
