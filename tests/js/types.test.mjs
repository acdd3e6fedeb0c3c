// The package's TypeScript contract: a consumer's code type-checks against index.d.ts
// (and the generated athanor.d.ts) with `tsc --noEmit --strict`, in the project shapes
// users start from, without skipLibCheck.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, cpSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
let dir;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "athanor-types-"));
  // typescript first: npm install prunes packages it did not install.
  execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", "--save-exact", "typescript@5.9.3"], { cwd: dir });
  const mod = join(dir, "node_modules", "athanor");
  mkdirSync(mod, { recursive: true });
  for (const f of readdirSync(pkg).filter((f) => f.endsWith(".d.ts") || f === "package.json")) cpSync(join(pkg, f), join(mod, f));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** tsc's output for `file` (tests/js/types/) under `compilerOptions`; "" when it passes. */
function tsc(name, file, compilerOptions) {
  const project = join(dir, name);
  mkdirSync(project);
  cpSync(fileURLToPath(new URL(`./types/${file}`, import.meta.url)), join(project, file));
  writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, ...compilerOptions }, files: [file] }));
  try {
    execFileSync(join(dir, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: project, encoding: "utf8" });
    return "";
  } catch (e) {
    return String(e.stdout) + String(e.stderr);
  }
}

test("index.d.ts type-checks a Node consumer's code under --strict", () => {
  assert.equal(tsc("esnext", "usage.ts", { module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["esnext", "dom"] }), "");
});

test("on TypeScript's default libs, without skipLibCheck (no Symbol.dispose before esnext)", () => {
  // module node16 implies target es2022 and its default lib, which has no Symbol.dispose.
  assert.equal(tsc("defaults", "usage.ts", { module: "node16" }), "");
});

test("a bundled browser app gets web.d.ts: a named database's migrator answers with promises", () => {
  // Vite's and esbuild's resolution ("bundler") takes the "types" condition, not "node".
  assert.equal(tsc("browser", "browser.ts", { module: "esnext", moduleResolution: "bundler", target: "es2022", lib: ["es2022", "dom"] }), "");
});
