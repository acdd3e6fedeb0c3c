// The packed package in Deno and Bun: `npm pack`, installed into a fresh project, imported
// by name, and an in-memory upgrade run in each, plus the `node:sqlite` adapter (Deno and
// Bun have it; Node 20 does not) and Bun's own `bun:sqlite`. The runtimes come from npm
// (their linux-x64 platform packages, whose binaries install without install scripts),
// or from $DENO / $BUN / PATH; on another platform without them the tests skip, saying why.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installed } from "./lib/npm-cache.mjs";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const example = fileURLToPath(new URL("../../example/migrations", import.meta.url));
const HEAD = "7a8b9c0d1e2f";
const RUNTIMES = {
  deno: { env: "DENO", npm: "@deno/linux-x64-glibc@2.9.6", bin: "deno" },
  bun: { env: "BUN", npm: "@oven/bun-linux-x64@1.4.5", bin: "bin/bun" },
};
let project;

/** The runtime's binary, or why there is none. */
function binary(name) {
  const r = RUNTIMES[name];
  if (process.env[r.env]) return { path: process.env[r.env] };
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (onPath) return { path: onPath };
  if (process.platform !== "linux" || process.arch !== "x64") return { missing: `no ${name} on PATH and no $${r.env}; npm's ${r.npm} is for linux-x64 only` };
  const pkgName = r.npm.slice(0, r.npm.lastIndexOf("@"));
  const path = join(installed(r.npm), "node_modules", pkgName, r.bin);
  return existsSync(path) ? { path } : { missing: `${r.npm} installed without its binary (${path})` };
}

before(() => {
  project = mkdtempSync(join(tmpdir(), "athanor-runtimes-"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", project], { cwd: pkg });
  const tarball = readdirSync(project).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "runtimes-consumer", private: true, type: "module" }));
  execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", join(project, tarball)], { cwd: project });
  const migrations = Object.fromEntries(readdirSync(example).sort().map((f) => [f, readFileSync(join(example, f), "utf8")]));
  writeFileSync(join(project, "migrations.json"), JSON.stringify(migrations));
  writeFileSync(
    join(project, "app.mjs"),
    `import { openMigrator, nodeSqlite, MigrationError } from "athanor";
import migrations from "./migrations.json" with { type: "json" };
const out = {};
const m = await openMigrator({ migrations });
out.embedded = { steps: (await m.upgrade("head")).steps.length, current: await m.current() };
try {
  await m.upgrade("nope");
} catch (e) {
  out.error = { code: e.code, isMigrationError: e instanceof MigrationError };
}
for (const mod of ["node:sqlite", "bun:sqlite"]) {
  let lib;
  try {
    lib = await import(mod);
  } catch {
    continue;
  }
  const db = new (lib.DatabaseSync ?? lib.Database)(":memory:");
  const h = await openMigrator({ migrations, adapter: nodeSqlite(db) });
  out[mod] = { steps: (await h.upgrade("head")).steps.length, rows: await h.rows(), again: (await h.upgrade("head")).steps.length };
}
console.log(JSON.stringify(out));
`,
  );
});
after(() => rmSync(project, { recursive: true, force: true }));

function runtimeTest(name, title, fn) {
  test(`${name}: ${title}`, { timeout: 300_000 }, (t) => {
    const b = binary(name);
    if (b.missing) {
      console.log(`# skipped ${name}: ${b.missing}`);
      return t.skip(b.missing);
    }
    fn(b.path);
  });
}

const run = (cmd, args) => spawnSync(cmd, args, { cwd: project, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });

function assertUpgraded(r, adapters) {
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1));
  assert.deepEqual(out.embedded, { steps: 7, current: [HEAD] });
  assert.deepEqual(out.error, { code: "UNKNOWN_REVISION", isMigrationError: true });
  for (const a of adapters) assert.deepEqual(out[a], { steps: 7, rows: [HEAD], again: 0 }, `${a}: ${JSON.stringify(out)}`);
}

runtimeTest("deno", "imports the package and upgrades in memory with only --allow-read; node:sqlite through its adapter", (deno) => {
  // Without permissions the run is refused: the node entry reads the embedded .wasm when the first migrator opens.
  const denied = run(deno, ["run", "--no-prompt", "app.mjs"]);
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /Requires read access to ".*athanor_ext_bg\.wasm"/);
  // Read access to the package is all an in-memory migrator needs (no --allow-sys, env, net).
  const nodeModules = join(project, "node_modules");
  assertUpgraded(run(deno, ["run", "--no-prompt", `--allow-read=${nodeModules},${project}`, "app.mjs"]), ["node:sqlite"]);
});

runtimeTest("bun", "imports the package and upgrades in memory; node:sqlite and bun:sqlite through the nodeSqlite adapter", (bun) => {
  assertUpgraded(run(bun, ["app.mjs"]), ["node:sqlite", "bun:sqlite"]);
});
