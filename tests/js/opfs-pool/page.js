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

/** A set as `athanor bundle`'s module gives it: its heads named by a symbol. */
function bundled(texts) {
  const set = Object.fromEntries(texts.map((text, i) => [`${rev(i)}.sql`, text]));
  Object.defineProperty(set, Symbol.for("athanor.heads"), { value: [rev(texts.length - 1)] });
  return set;
}

/** With a bundle's heads nothing is parsed at head: a text broken after bundling goes
 * unnoticed by the at-head check; anything else parses first, and says what is wrong. */
async function bundle() {
  const first = await openMigrator({ database: "bundle.db", directory, migrations: bundled(migrations) });
  const applied = (await first.upgrade("head")).steps.map((s) => s.revision);
  await first.close();
  const broken = bundled([...migrations.slice(0, 2), "not a migration"]);
  const m = await openMigrator({ database: "bundle.db", directory, migrations: broken });
  const atHead = await m.upgrade("head");
  const atHeads = await m.upgrade("heads");
  // The app's own SQL needs no migration: still nothing parsed.
  await m.exec("INSERT INTO t2 VALUES (?)", ["app"]);
  const queried = await m.query("SELECT x FROM t2");
  const down = await m.downgrade("-1").then(() => "ran", (e) => e.code);
  const afterDown = await m.query("SELECT count(*) AS n FROM applied");
  await m.close();
  const unbundled = await openMigrator({ database: "bundle.db", directory, migrations: [...migrations.slice(0, 2), "not a migration"] }).then(() => "opened", (e) => e.code);
  const again = await openMigrator({ database: "bundle.db", directory, migrations });
  const rows = await again.rows();
  await again.close();
  return { applied, atHead, atHeads, queried, down, afterDown, unbundled, rows };
}

/** The heads remembered beside the pool (opfs-heads.js), as the page reads that file. */
async function rememberedIn(dir) {
  for (let i = 0; i < 100; i++) {
    try {
      const root = await navigator.storage.getDirectory();
      const file = await (await (await root.getDirectoryHandle(dir)).getFileHandle(".athanor-heads.json")).getFile();
      return JSON.parse(await file.text());
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return null;
}

/** A parse is remembered by the set's bytes; a later load with the same bytes parses
 * nothing at head. Shown with an entry written for a set one revision ahead, claiming
 * the database's row as its heads: trusted, so that set's r3 is not applied until the
 * entry is gone. */
async function remembered() {
  const first = await openMigrator({ database: "remember.db", directory, migrations });
  const applied = (await first.upgrade("head")).steps.map((s) => s.revision);
  await first.close();
  const written = await rememberedIn(directory);
  const ahead = [...migrations, `-- Revision ID: r3\n-- Revises: r2\n\n-- migrate:upgrade\nINSERT INTO applied VALUES ('r3');\n`];
  const { joined } = await import("./pkg/api.js");
  const { fingerprint } = await import("./pkg/opfs-heads.js");
  const root = await navigator.storage.getDirectory();
  const file = await (await root.getDirectoryHandle(directory)).getFileHandle(".athanor-heads.json");
  const writable = await file.createWritable();
  await writable.write(JSON.stringify([[await fingerprint(joined(ahead)), ["r2"]]]));
  await writable.close();
  const m = await openMigrator({ database: "remember.db", directory, migrations: ahead });
  const trusted = (await m.upgrade("head")).steps.length;
  await m.close();
  await root.getDirectoryHandle(directory).then((d) => d.removeEntry(".athanor-heads.json"));
  const again = await openMigrator({ database: "remember.db", directory, migrations: ahead });
  const after = (await again.upgrade("head")).steps.map((s) => s.revision);
  await again.close();
  return { applied, written, trusted, after, rememberedAfter: await rememberedIn(directory) };
}

/** SQLite's FTS5 and R*Tree: not in the default entry's wasm (its error says where they
 * are), in athanor/extended's. Each OPFS database's worker loads its entry's wasm. */
async function extensions() {
  const search = [
    `-- Revision ID: s1\n-- Revises: \n\n-- migrate:upgrade\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n` +
      `CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id');\nCREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);\n`,
  ];
  const lean = await openMigrator({ database: "lean.db", directory, migrations: search });
  const refused = await lean.upgrade("head").then(() => null, (e) => ({ code: e.code, message: e.message, rows: null }));
  refused.rows = await lean.rows();
  await lean.close();
  const extended = await import("./pkg/web-extended.js");
  const m = await extended.openMigrator({ database: "extended.db", directory, migrations: search });
  const applied = (await m.upgrade("head")).steps.map((s) => s.revision);
  await m.exec("INSERT INTO notes VALUES (1, 'full text search in the browser'); INSERT INTO notes_fts (rowid, body) VALUES (1, 'full text search in the browser'); INSERT INTO boxes VALUES (1, 0, 5)");
  const found = await m.query("SELECT rowid AS id FROM notes_fts WHERE notes_fts MATCH ?", ["browser"]);
  const boxed = await m.query("SELECT id FROM boxes WHERE x1 >= 3");
  await m.close();
  return { refused, applied, found, boxed };
}

try {
  window.result = await { race, write, read, bundle, remembered, extensions }[params.get("case")]();
} catch (e) {
  window.result = { error: `${e?.code ?? ""} ${e?.stack ?? e}` };
}
document.body.dataset.state = "done";
