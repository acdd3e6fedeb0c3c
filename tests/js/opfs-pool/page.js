// Drives the package's OPFS workers for opfs_pool.test.mjs: `?case=race&dir=` starts
// several workers on one fresh pool at once; `?case=write|read&dir=` stores, then (on a
// later load, the pool's files reopened by the worker) reads back several databases.
import { openMigrator } from "./pkg/web.js";

const params = new URLSearchParams(location.search);
const directory = params.get("dir");
const rev = (i) => `r${i}`;
// Each upgrade section logs itself: a migration applied twice shows as two rows (and
// its CREATE TABLE would fail).
const migrations = [0, 1, 2].map(
  (i) =>
    `-- Revision ID: ${rev(i)}\n-- Revises: ${i ? rev(i - 1) : ""}\n\n-- migrate:upgrade\n` +
    (i ? "" : "CREATE TABLE applied (revision TEXT NOT NULL);\n") +
    `CREATE TABLE t${i} (x TEXT);\nINSERT INTO applied VALUES ('${rev(i)}');\n`,
);
const DATABASES = ["a.db", "b.db", "c.db"];

async function race() {
  const ms = await Promise.all([1, 2, 3, 4].map(() => openMigrator({ database: "race.db", directory, migrations })));
  const reports = await Promise.all(ms.map((m) => m.upgrade("head")));
  const currents = await Promise.all(ms.map((m) => m.current()));
  const applied = await ms[0].query("SELECT revision, count(*) AS n FROM applied GROUP BY revision ORDER BY revision");
  await Promise.all(ms.map((m) => m.close()));
  return { steps: reports.map((r) => r.steps.length), currents, applied };
}

async function write() {
  for (const database of DATABASES) {
    const m = await openMigrator({ database, directory, migrations });
    await m.upgrade("head");
    await m.exec("INSERT INTO t2 VALUES (?)", [database]);
    await m.close();
  }
  return {};
}

async function read() {
  const out = {};
  for (const database of DATABASES) {
    const m = await openMigrator({ database, directory, migrations });
    out[database] = { current: await m.current(), rows: await m.query("SELECT x FROM t2"), check: await m.query("PRAGMA integrity_check") };
    out.files ??= (await m.files()).sort();
    await m.close();
  }
  return out;
}

try {
  window.result = await { race, write, read }[params.get("case")]();
} catch (e) {
  window.result = { error: `${e?.code ?? ""} ${e?.stack ?? e}` };
}
document.body.dataset.state = "done";
