// The package's TypeScript contract: a consumer's code type-checks against index.d.ts
// (and the generated athanor.d.ts) with `tsc --noEmit --strict`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, cpSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");

test("index.d.ts type-checks a consumer's code under --strict", () => {
  const dir = mkdtempSync(join(tmpdir(), "athanor-types-"));
  try {
    // typescript first: npm install prunes packages it did not install.
    execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", "--save-exact", "typescript@5.9.3"], { cwd: dir });
    const mod = join(dir, "node_modules", "athanor");
    mkdirSync(mod, { recursive: true });
    for (const f of readdirSync(pkg).filter((f) => f.endsWith(".d.ts") || f === "package.json")) cpSync(join(pkg, f), join(mod, f));
    cpSync(fileURLToPath(new URL("./types/usage.ts", import.meta.url)), join(dir, "usage.ts"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["esnext", "dom"], noEmit: true }, files: ["usage.ts"] }),
    );
    let out = "";
    try {
      execFileSync(join(dir, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: dir, encoding: "utf8" });
    } catch (e) {
      out = String(e.stdout) + String(e.stderr);
    }
    assert.equal(out, "", "tsc reported errors");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
