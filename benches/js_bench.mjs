// `make bench`: the npm package's figures. Run after `make pkg`.
//   - CLI `upgrade head` of 1,000 small migrations on a file, beside the sqlite3 shell
//     running the same SQL in one transaction;
//   - the at-head check in the JS API (open the file, read the version table, build the
//     graph of 1,000 revisions, decide there is nothing to do), after instantiation;
//   - the size of the wasm and the JS, raw and gzip -9.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../pkg/", import.meta.url));
const N = 1000;
const work = mkdtempSync(join(tmpdir(), "athanor-bench-"));
const dir = join(work, "migrations");
mkdirSync(dir);
const hex = (i) => i.toString(16).padStart(12, "0");
let allSql = "";
for (let i = 0; i < N; i++) {
  const up = `CREATE TABLE t_${i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO t_${i} (name) VALUES ('row ${i}');`;
  allSql += up + "\n";
  writeFileSync(
    join(dir, `${hex(i)}_step_${i}.sql`),
    `-- Revision ID: ${hex(i)}\n-- Revises: ${i ? hex(i - 1) : ""}\n-- Message: step ${i}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\nDROP TABLE t_${i};\n`,
  );
}
writeFileSync(join(work, "all.sql"), `BEGIN;\n${allSql}COMMIT;\n`);

const best = (runs, fn) => Math.min(...Array.from({ length: runs }, fn));
const ms = (x) => `${x.toFixed(1)} ms`;

// 1. CLI vs the sqlite3 shell, both on a fresh file each run (process start included).
const shell = best(5, (_, i) => {
  const db = join(work, `shell${i}.db`);
  const t = performance.now();
  execFileSync("sqlite3", [db], { input: readFileSync(join(work, "all.sql")) });
  return performance.now() - t;
});
const cli = best(5, (_, i) => {
  const db = join(work, `cli${i}.db`);
  const t = performance.now();
  execFileSync("node", [join(pkg, "cli.mjs"), "--dir", dir, "--db", db, "upgrade", "head"], { stdio: ["ignore", "ignore", "ignore"] });
  return performance.now() - t;
});
console.log(`CLI upgrade head, ${N} migrations on a file: sqlite3 shell ${ms(shell)}, athanor CLI ${ms(cli)}, ratio ${(cli / shell).toFixed(2)}`);

// 2. The at-head check, after the wasm is instantiated (importing node.js does that).
const { openMigrator } = await import(join(pkg, "node.js"));
const migrations = readdirSync(dir).map((name) => ({ name, text: readFileSync(join(dir, name), "utf8") }));
let atHead = Infinity;
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  const m = await openMigrator({ database: join(work, "cli0.db"), migrations });
  const r = await m.upgrade("head");
  atHead = Math.min(atHead, performance.now() - t);
  if (r.steps.length) throw new Error("expected nothing to do");
  m.close();
}
console.log(`at-head check, ${N} revisions (open, read version table, build graph, plan): ${ms(atHead)}`);

// 3. Sizes.
const files = readdirSync(pkg).filter((f) => f.endsWith(".wasm") || f.endsWith(".js") || f.endsWith(".mjs"));
// `gzip -9` itself, as the package build measures its budget (zlib builds differ).
const gzip9 = (path) => execFileSync("gzip", ["-9", "-c", path], { maxBuffer: 1 << 26 }).length;
let raw = 0, gz = 0;
for (const f of files) {
  raw += readFileSync(join(pkg, f)).length;
  gz += gzip9(join(pkg, f));
}
console.log(`size: package, every file: ${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip -9`);
// One line per wasm (wasm-pack.toml's artifacts), and what a browser app loads: the
// embedded wasm, its glue and the browser's JS (web.js and what it imports).
const kibOf = (f) => `${(gzip9(join(pkg, f)) / 1024).toFixed(1)} KiB`;
for (const name of ["athanor_adapter", "athanor", "athanor_full"]) {
  console.log(`size: ${name}_bg.wasm ${(readFileSync(join(pkg, `${name}_bg.wasm`)).length / 1024).toFixed(1)} KiB raw, ${kibOf(`${name}_bg.wasm`)} gzip -9`);
}
const browser = ["athanor_bg.wasm", "athanor.js", "web.js", "api.js", "errors.js", "migrator.js", "runner.js", "adapters.js", "opfs.js", "opfs-lease.js", "opfs-worker.js", "worker-client.js"];
const browserGz = browser.reduce((n, f) => n + gzip9(join(pkg, f)), 0);
console.log(`size: browser package (embedded wasm + its glue + browser JS): ${(browserGz / 1024).toFixed(1)} KiB (${(browserGz / 1000).toFixed(1)} KB) gzip -9; issue 14's goal: 462 KB`);
rmSync(work, { recursive: true, force: true });
