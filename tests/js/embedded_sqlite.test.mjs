// The SQLite inside the embedded wasms is built without some of sqlite-wasm-rs's extras
// to keep the browser package small (.cargo/config.toml): athanor_ext_bg.wasm (Node's
// :memory:, athanor/extended in browsers) keeps FTS5 and R*Tree, athanor_bg.wasm (the
// browsers' default) leaves them out too. What real schemas and app queries use must
// still be there: the corpus's real histories, and one migration using each feature an
// app's schema may; in the browsers' default, all of them but FTS5 and R*Tree.
import { test } from "node:test";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const corpus = process.env.ATHANOR_CORPUS ?? join(root, "tests/fixtures/corpus");
const { openMigrator } = await import(`${pkg}/node.js`);

for (const project of ["vaultwarden", "memos", "atuin", "atuin-server-sqlite", "atuin-scripts", "flipt", "pingvin-share"]) {
  test(`${project}: the real history upgrades to head on the embedded SQLite`, async () => {
    const m = await openMigrator({ migrations: join(corpus, project, "versions") });
    const report = await m.upgrade("head");
    assert.deepEqual(report.after, await m.heads());
    assert.deepEqual(await m.query("PRAGMA integrity_check"), [{ integrity_check: "ok" }]);
    assert.deepEqual(await m.query("PRAGMA foreign_key_check"), []);
    m.close();
  });
}

test("authelia: fails where it fails on files (the app's own BIN2B64), not earlier", async () => {
  const m = await openMigrator({ migrations: join(corpus, "authelia", "versions") });
  await assert.rejects(m.upgrade("head"), { code: "MIGRATION_FAILED", message: /no such function: BIN2B64/ });
  m.close();
});

test("vaultwarden: downgrade base runs every down on the embedded SQLite", async () => {
  const m = await openMigrator({ migrations: join(corpus, "vaultwarden", "versions") });
  await m.upgrade("head");
  const down = await m.downgrade("base");
  assert.equal(down.steps.length, 56);
  assert.deepEqual(await m.current(), []);
  m.close();
});

const migration = (id, revises, up, down) =>
  `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n${down}\n`;

// FTS5 (external content, kept in sync by triggers), R*Tree, JSON, a STRICT table with a
// CHECK and a stored generated column, a view with a window function, ALTER TABLE's
// ADD / RENAME / DROP COLUMN, an index on an expression.
const features = {
  "a1_schema.sql": migration(
    "a1",
    "",
    `CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  body TEXT NOT NULL,
  meta TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
  words INTEGER GENERATED ALWAYS AS (length(body) - length(replace(body, ' ', '')) + 1) STORED
) STRICT;
CREATE INDEX notes_tag ON notes (json_extract(meta, '$.tag'));
CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
  INSERT INTO notes_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
  INSERT INTO notes_fts (notes_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE VIRTUAL TABLE places USING rtree(id, min_x, max_x, min_y, max_y);
CREATE VIEW ranked AS
  SELECT id, words, json_extract(meta, '$.tag') AS tag, rank() OVER (ORDER BY words DESC) AS place FROM notes;`,
    `DROP VIEW ranked;
DROP TABLE places;
DROP TRIGGER notes_ad;
DROP TRIGGER notes_ai;
DROP TABLE notes_fts;
DROP TABLE notes;`,
  ),
  "b2_alter.sql": migration(
    "b2",
    "a1",
    `ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notes RENAME COLUMN pinned TO starred;
UPDATE notes SET starred = 1 WHERE json_extract(meta, '$.tag') = 'db';`,
    `ALTER TABLE notes DROP COLUMN starred;`,
  ),
};

test("a migration using FTS5, R*Tree, JSON, STRICT, generated columns, window functions and ALTER TABLE runs on the embedded SQLite", async () => {
  const m = await openMigrator({ migrations: features });
  await m.upgrade("a1");
  await m.exec(
    "INSERT INTO notes (body, meta) VALUES ('migrating schemas with sqlite', '{\"tag\":\"db\"}'), ('a note about cats', '{\"tag\":\"pets\"}'), ('sqlite runs in the browser too', '{\"tag\":\"db\"}')",
  );
  await m.exec("INSERT INTO places VALUES (1, 0, 10, 0, 10), (2, 20, 30, 20, 30)");
  await m.upgrade("head");

  // FTS5 with the porter stemmer, ranked, highlighted.
  assert.deepEqual(await m.query("SELECT rowid AS id, highlight(notes_fts, 0, '[', ']') AS hit FROM notes_fts WHERE notes_fts MATCH ? ORDER BY rank", ["migrate"]), [
    { id: 1, hit: "[migrating] schemas with sqlite" },
  ]);
  await m.exec("DELETE FROM notes WHERE id = 2");
  assert.deepEqual(await m.query("SELECT count(*) AS n FROM notes_fts WHERE notes_fts MATCH 'cats'"), [{ n: 0 }]);
  // R*Tree.
  assert.deepEqual(await m.query("SELECT id FROM places WHERE max_x >= ? AND min_x <= ? ORDER BY id", [5, 25]), [{ id: 1 }, { id: 2 }]);
  // JSON, the generated column, the view's window function, the renamed column.
  assert.deepEqual(await m.query("SELECT id, words, tag, place FROM ranked ORDER BY place"), [
    { id: 3, words: 6, tag: "db", place: 1 },
    { id: 1, words: 4, tag: "db", place: 2 },
  ]);
  assert.deepEqual(await m.query("SELECT json_group_array(id) AS ids FROM notes WHERE starred"), [{ ids: "[1,3]" }]);
  assert.deepEqual(await m.query("SELECT value FROM json_each(?) ORDER BY value DESC", ["[3,1,2]"]), [{ value: 3 }, { value: 2 }, { value: 1 }]);
  // STRICT refuses a value of the wrong type; the CHECK refuses bad JSON.
  await assert.rejects(m.exec("INSERT INTO notes (body) VALUES (x'00')"), /cannot store BLOB value in TEXT column/);
  await assert.rejects(m.exec("INSERT INTO notes (body, meta) VALUES ('x', '{')"), /CHECK constraint failed/);
  // Math and date functions, a recursive CTE, UPSERT and RETURNING.
  assert.deepEqual(await m.query("SELECT sqrt(16) AS s, round(pi(), 2) AS p, date('2026-01-31', '+1 month') AS d"), [{ s: 4, p: 3.14, d: "2026-03-03" }]);
  assert.deepEqual(await m.query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4) SELECT sum(i) AS t FROM n"), [{ t: 10 }]);
  assert.deepEqual(await m.query("INSERT INTO notes (id, body) VALUES (1, 'replaced') ON CONFLICT (id) DO UPDATE SET body = excluded.body RETURNING id, words"), [{ id: 1, words: 1 }]);
  assert.deepEqual(await m.query("PRAGMA integrity_check"), [{ integrity_check: "ok" }]);

  await m.downgrade("base");
  assert.deepEqual(await m.query("SELECT name FROM sqlite_master WHERE tbl_name NOT IN ('alembic_version', 'athanor_history')"), []);
  m.close();
});

// Each wasm in a process of its own, through athanor/slim (one wasm per process: the
// glue holds one instance): every feature above, one migration each.
const PROBES = {
  fts5: "CREATE VIRTUAL TABLE f USING fts5(body, tokenize='porter unicode61');",
  rtree: "CREATE VIRTUAL TABLE r USING rtree(id, min_x, max_x);",
  json: "CREATE TABLE j (m TEXT CHECK (json_valid(m)));\nINSERT INTO j SELECT json_group_array(value) FROM json_each('[1,2]');",
  strict: "CREATE TABLE s (x INTEGER, y INTEGER GENERATED ALWAYS AS (x * 2) STORED) STRICT;",
  window: "CREATE VIEW w AS SELECT rank() OVER (ORDER BY x) AS r FROM s;",
  math: "CREATE TABLE mth AS SELECT sqrt(16) AS v, pi() AS p, date('2026-01-31', '+1 month') AS d;",
};
function probe(wasm) {
  const script = `import { init, openMigrator } from ${JSON.stringify(`${pkg}/slim.js`)};
import { readFileSync } from "node:fs";
await init(readFileSync(${JSON.stringify(join(pkg, wasm))}));
const out = {};
for (const [name, sql] of Object.entries(${JSON.stringify(PROBES)})) {
  const migrations = { "a.sql": "-- Revision ID: " + name + "\\n-- Revises: \\n\\n-- migrate:upgrade\\n" + (name === "window" ? ${JSON.stringify(PROBES.strict)} + "\\n" : "") + sql + "\\n" };
  const m = await openMigrator({ migrations });
  out[name] = await m.upgrade("head").then(() => "ok", (e) => e.code + ": " + e.message);
  m.close();
}
console.log(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
}

test("athanor_ext_bg.wasm has every feature; the browsers' default athanor_bg.wasm all but FTS5 and R*Tree, and its error says where they are", () => {
  const all = Object.fromEntries(Object.keys(PROBES).map((k) => [k, "ok"]));
  assert.deepEqual(probe("athanor_ext_bg.wasm"), all);
  const lean = probe("athanor_bg.wasm");
  for (const module of ["fts5", "rtree"]) {
    assert.match(lean[module], new RegExp(`^MIGRATION_FAILED: .*no such module: ${module} .*\\(athanor's browser build leaves SQLite's FTS5 and R\\*Tree out.*"athanor/extended".*athanor_ext_bg\\.wasm\\)$`));
  }
  assert.deepEqual({ ...lean, fts5: "ok", rtree: "ok" }, all);
});
