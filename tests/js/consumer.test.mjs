// The package as its users meet it: `npm pack`, installed into a fresh project, imported
// by name, and its `athanor` bin run through npx.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const example = fileURLToPath(new URL("../../example/migrations", import.meta.url));
let project;

before(() => {
  project = mkdtempSync(join(tmpdir(), "athanor-consumer-"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", project], { cwd: pkg });
  const tarball = readdirSync(project).find((f) => f.endsWith(".tgz"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", join(project, tarball)], { cwd: project });
});

after(() => rmSync(project, { recursive: true, force: true }));

test("import 'athanor' in Node resolves the node entry and migrates", () => {
  writeFileSync(
    join(project, "app.mjs"),
    `import { openMigrator, MigrationError } from "athanor";
const m = await openMigrator({ migrations: ${JSON.stringify(example)} });
const r = await m.upgrade("head");
console.log(JSON.stringify({ steps: r.steps.length, current: await m.current(), err: typeof MigrationError }));`,
  );
  const out = JSON.parse(execFileSync("node", ["app.mjs"], { cwd: project, encoding: "utf8" }));
  assert.deepEqual(out, { steps: 7, current: ["7a8b9c0d1e2f"], err: "function" });
});

test("the package ships only what its exports and bin need", () => {
  const files = readdirSync(join(project, "node_modules", "athanor")).sort();
  for (const f of ["athanor.js", "athanor_bg.wasm", "athanor_adapter.js", "athanor_adapter_bg.wasm", "athanor_full.js", "athanor_full_bg.wasm", "api.js", "node.js", "web.js", "workerd.js", "slim.js", "cli.cjs", "index.d.ts", "package.json", "README.md"]) {
    assert.ok(files.includes(f), `${f} missing from the package (${files.join(", ")})`);
  }
});

test("each entry loads its own wasm: workerd the one without SQLite, browsers the one without autogenerate", async () => {
  const dir = join(project, "node_modules", "athanor");
  const exportsOf = (f) => new Set(WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(dir, f)))).map((e) => e.name));
  assert.match(readFileSync(join(dir, "workerd.js"), "utf8"), /from\s*"\.\/athanor_adapter_bg\.wasm"/);
  const adapter = exportsOf("athanor_adapter_bg.wasm");
  const embedded = exportsOf("athanor_bg.wasm");
  const full = exportsOf("athanor_full_bg.wasm");
  // The Planner only in the adapter wasm (browsers fetch it for adapters), the errors
  // everywhere; SQLite (the Migrator), autogenerate and the CLI where they belong.
  assert.deepEqual([adapter, embedded, full].map((e) => e.has("planner_new") && e.has("versionRowsSql")), [true, false, false]);
  for (const e of [adapter, embedded, full]) assert.ok(e.has("nodeSqliteUnavailable"));
  // The Node file VFS only in the full wasm (Node's `vfs: "athanor-node"` loads it).
  assert.deepEqual([adapter, embedded, full].map((e) => e.has("installNodeVfs")), [false, false, true]);
  assert.deepEqual([adapter.has("migrator_new"), embedded.has("migrator_new"), full.has("migrator_new")], [false, true, true]);
  assert.deepEqual([embedded.has("autogenerate"), full.has("autogenerate"), full.has("runCli")], [false, true, true]);
  // Without autogenerate, the embedded migrator says where it runs instead.
  const { init, initAdapter, openMigrator, d1 } = await import(pathToFileURL(join(dir, "slim.js")).href);
  await init(readFileSync(join(dir, "athanor_bg.wasm")));
  const m = await openMigrator({ migrations: [] });
  assert.throws(() => m.autogenerate("CREATE TABLE t (x);"), { code: "USAGE", message: /autogenerate runs in Node and the CLI/ });
  // An adapter's migrator needs the adapter wasm, loaded the same way.
  const adapter_ = d1({});
  const one = { "a.sql": "-- Revision ID: aaaa0001\n-- Revises: \n\n-- migrate:upgrade\nCREATE TABLE t (x);\n" };
  await assert.rejects(openMigrator({ migrations: one, adapter: adapter_ }), { code: "USAGE", message: /initAdapter\(wasm\)` with athanor_adapter_bg\.wasm/ });
  await initAdapter(readFileSync(join(dir, "athanor_adapter_bg.wasm")));
  assert.deepEqual(await (await openMigrator({ migrations: one, adapter: adapter_ })).heads(), ["aaaa0001"]);
});

test("npx athanor runs the CLI from the installed package", () => {
  const help = execFileSync("npx", ["--no-install", "athanor", "--help"], { cwd: project, encoding: "utf8" });
  assert.match(help, /^usage: athanor /);
  const history = execFileSync("npx", ["--no-install", "athanor", "--dir", example, "history"], { cwd: project, encoding: "utf8" });
  assert.equal(history.split("\n")[0], "6f7a8b9c0d1e -> 7a8b9c0d1e2f (search, sharing) (head), archive notes");
});

test("npx athanor bundle writes a module that openMigrator takes as it is", () => {
  const out = execFileSync("npx", ["--no-install", "athanor", "--dir", example, "bundle", "-o", "migrations.js"], { cwd: project, encoding: "utf8" });
  assert.equal(out, "Generating migrations.js ...  done\n");
  writeFileSync(
    join(project, "bundled.mjs"),
    `import { openMigrator } from "athanor";
import migrations, { checksums } from "./migrations.js";
const m = await openMigrator({ migrations });
const r = await m.upgrade("head");
console.log(JSON.stringify({ steps: r.steps.length, current: await m.current(), checksums: Object.keys(checksums).length }));`,
  );
  const res = JSON.parse(execFileSync("node", ["bundled.mjs"], { cwd: project, encoding: "utf8" }));
  assert.deepEqual(res, { steps: 7, current: ["7a8b9c0d1e2f"], checksums: 7 });
});
