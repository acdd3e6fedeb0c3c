// One table of hosts, the same migrations through each: the embedded engine (on a file),
// the official sqlite-wasm build, better-sqlite3 and node:sqlite (when this Node has it).
// Every host must build the same normalized schema, version table and history, and
// answer checksums, stamp and failures with the same codes. (D1 and Durable Objects run
// the same sets in workerd: workerd.test.mjs, compared with the embedded result.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { installed } from "./lib/npm-cache.mjs";
import { snapshot } from "./lib/snapshot.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = process.env.ATHANOR_PKG ?? join(root, "pkg");
const corpus = process.env.ATHANOR_CORPUS ?? join(root, "tests/fixtures/corpus");
const athanor = await import(pathToFileURL(join(pkg, "node.js")).href);
const { openMigrator } = athanor;

const readSet = (dir) => Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => [f, readFileSync(join(dir, f), "utf8")]));
// The example app's set (a merge, triggers, a full downgrade) and a real history
// (atuin's client: partial and expression indexes) that every host, D1 included, can run.
const SETS = {
  example: { migrations: readSet(join(root, "example/migrations")), downgrade: true },
  "corpus atuin": { migrations: readSet(join(corpus, "atuin/versions")), downgrade: false },
};

let work;
let sqlite3wasm;
/** better-sqlite3, built for this Node's ABI on first use (tests/js/node_versions.test.mjs
 * runs the other hosts under Node 22 and 24, where the Node 20 build would not load). */
let betterSqlite3;
const BetterSqlite3 = new Proxy(function () {}, {
  construct: (_, args) => {
    betterSqlite3 ??= createRequire(join(installed("better-sqlite3@12.11.1", { scripts: true }), "package.json"))("better-sqlite3");
    return new betterSqlite3(...args);
  },
});
let DatabaseSync;
let nodeSqliteMissing;
const LIBSQL = "@libsql/client@0.18.0";
let createLibsqlClient;
const libsqlClients = [];
/** A `@libsql/client` on a local file; `timeout`: SQLite's busy timeout (libSQL's
 * default is none). Closed after the tests. */
function libsqlClient(path, options = {}) {
  const client = createLibsqlClient({ url: `file:${path}`, ...options });
  libsqlClients.push(client);
  return client;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "athanor-hosts-"));
  const wasmDir = installed("@sqlite.org/sqlite-wasm@3.54.1-build1");
  sqlite3wasm = await (await import(pathToFileURL(join(wasmDir, "node_modules/@sqlite.org/sqlite-wasm/dist/node.mjs")).href)).default();
  ({ createClient: createLibsqlClient } = createRequire(join(installed(LIBSQL), "package.json"))("@libsql/client"));
  try {
    ({ DatabaseSync } = await import("node:sqlite"));
  } catch (e) {
    nodeSqliteMissing = `node:sqlite is not available in Node ${process.version} (it arrived in Node 22.5): ${e.code ?? e.message}`;
  }
});
after(() => {
  for (const c of libsqlClients) c.close();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
// Each host: `fresh()` gives an empty database as { open(migrations, options), values(sql),
// exec(sql) }, and adapter hosts `adapter()`, a new adapter over it.
// Foreign keys are set off on every connection, as the embedded engine and the sqlite3
// shell have them (better-sqlite3 and node:sqlite default to on).
const HOSTS = [
  {
    // The wasm SQLite on a file: only behind vfs: "athanor-node" now (a file opens
    // through node:sqlite otherwise: the "node file" host below), in the full wasm.
    name: "embedded",
    fresh() {
      const path = join(work, `embedded-${n++}.db`);
      return {
        open: (migrations, options) => openMigrator({ migrations, database: path, vfs: "athanor-node", ...options }),
        values: (sql) => JSON.parse(execFileSync("sqlite3", ["-json", path, sql], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) || "[]").map((r) => Object.values(r)[0]),
        exec: (sql) => execFileSync("sqlite3", [path, sql], { stdio: ["ignore", "pipe", "pipe"] }),
      };
    },
  },
  {
    name: "sqlite-wasm",
    fresh() {
      const db = new sqlite3wasm.oo1.DB(":memory:");
      return {
        open: (migrations, options) => openMigrator({ migrations, adapter: athanor.sqliteWasm(db), ...options }),
        adapter: () => athanor.sqliteWasm(db),
        values: (sql) => db.selectValues(sql),
        exec: (sql) => db.exec(sql),
      };
    },
  },
  {
    name: "better-sqlite3",
    fresh() {
      const db = new BetterSqlite3(":memory:");
      db.pragma("foreign_keys = OFF");
      return {
        open: (migrations, options) => openMigrator({ migrations, adapter: athanor.betterSqlite3(db), ...options }),
        adapter: () => athanor.betterSqlite3(db),
        values: (sql) => db.prepare(sql).pluck().all(),
        exec: (sql) => db.exec(sql),
      };
    },
  },
  {
    // openMigrator({ database }) in Node: a file on node:sqlite, opened by athanor.
    name: "node file",
    skip: () => nodeSqliteMissing,
    fresh() {
      const path = join(work, `node-file-${n++}.db`);
      return {
        open: (migrations, options) => openMigrator({ migrations, database: path, ...options }),
        values: (sql) => JSON.parse(execFileSync("sqlite3", ["-json", path, sql], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) || "[]").map((r) => Object.values(r)[0]),
        exec: (sql) => execFileSync("sqlite3", [path, sql], { stdio: ["ignore", "pipe", "pipe"] }),
      };
    },
  },
  {
    name: "node:sqlite",
    skip: () => nodeSqliteMissing,
    fresh() {
      const db = new DatabaseSync(":memory:", { enableForeignKeyConstraints: false });
      return {
        open: (migrations, options) => openMigrator({ migrations, adapter: athanor.nodeSqlite(db), ...options }),
        adapter: () => athanor.nodeSqlite(db),
        values: (sql) => db.prepare(sql).all().map((r) => Object.values(r)[0]),
        exec: (sql) => db.exec(sql),
      };
    },
  },
  {
    // A local libSQL file through the real client (its native library ships in npm).
    // Asynchronous: the run goes as batches, each one write transaction, as on D1.
    // Foreign keys stay on (libSQL's default): each call may take another connection
    // of the client's pool, so a PRAGMA cannot switch them off for the run.
    name: "libsql",
    batching: true,
    fresh() {
      const client = libsqlClient(join(work, `libsql-${n++}.db`));
      return {
        open: (migrations, options) => openMigrator({ migrations, adapter: athanor.libsql(client), ...options }),
        adapter: () => athanor.libsql(client),
        client,
        values: async (sql) => (await client.execute(sql)).rows.map((r) => r[0]),
        exec: (sql) => client.executeMultiple(sql),
      };
    },
  },
];

/** A host's test, skipped with the printed reason when the host is missing here. */
function hostTest(host, title, fn) {
  test(`${host.name}: ${title}`, async (t) => {
    const why = host.skip?.();
    if (why) {
      console.log(`# skipped ${host.name}: ${why}`);
      return t.skip(why);
    }
    await fn(host.fresh());
  });
}

const expected = {};
for (const [setName, set] of Object.entries(SETS)) {
  for (const host of HOSTS) {
    hostTest(host, `${setName}: upgrade head gives the embedded engine's schema, version table and history`, async (db) => {
      const m = await db.open(set.migrations);
      const report = await m.upgrade("head");
      assert.equal(report.steps.length, Object.keys(set.migrations).length);
      const snap = await snapshot(db.values);
      assert.ok(snap.schema.length > 2 && snap.versions.length === 1 && snap.history.length === report.steps.length, JSON.stringify(snap));
      // HOSTS[0] is the embedded engine: tests run in order, so it sets the reference.
      expected[setName] ??= snap;
      assert.deepEqual(snap, expected[setName]);
      assert.equal((await m.upgrade("head")).steps.length, 0, "second run: nothing to do");
      if (set.downgrade) {
        await m.downgrade("base");
        const down = await snapshot(db.values);
        assert.deepEqual(down.schema.map((s) => s.split(" ")[1]), ["alembic_version", "athanor_history"]);
        assert.deepEqual([down.versions, down.history], [[], []]);
        expected[`${setName} base`] ??= down;
        assert.deepEqual(down, expected[`${setName} base`]);
      }
    });
  }
}

const file = (id, revises, up, down = "") => `-- Revision ID: ${id}\n-- Revises: ${revises}\n-- Message: ${id}\n\n-- migrate:upgrade\n${up}\n\n-- migrate:downgrade\n${down}\n`;
const base = {
  "a1a1_a.sql": file("a1a1", "", "CREATE TABLE a (x);", "DROP TABLE a;"),
  "b2b2_b.sql": file("b2b2", "a1a1", "CREATE TABLE b (x);", "DROP TABLE b;"),
};
const edited = { ...base, "a1a1_a.sql": file("a1a1", "", "CREATE TABLE a (x, y);", "DROP TABLE a;") };
const grown = (set) => ({ ...set, "c3c3_c.sql": file("c3c3", "b2b2", "CREATE TABLE c (x);", "DROP TABLE c;") });
const failing = grown({ ...base, "b2b2_b.sql": file("b2b2", "a1a1", "CREATE TABLE b (x);\nINSERT INTO nope VALUES (1);") });
const tables = (db) => db.values("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");

for (const host of HOSTS) {
  hostTest(host, "an applied migration edited afterwards is CHECKSUM_MISMATCH when there is work, and changes nothing", async (db) => {
    await (await db.open(base)).upgrade("head");
    // Nothing to do: nothing hashed (checksums guard what runs, as in the embedded engine).
    assert.equal((await (await db.open(edited)).upgrade("head")).steps.length, 0);
    const m = await db.open(grown(edited));
    await assert.rejects(m.upgrade("head"), (e) => {
      assert.equal(e.code, "CHECKSUM_MISMATCH", e.message);
      assert.equal(e.data.revision, "a1a1");
      assert.match(e.message, /a1a1.*modified after it was applied/);
      return true;
    });
    await assert.rejects(m.downgrade("base"), { code: "CHECKSUM_MISMATCH" });
    assert.deepEqual(await m.rows(), ["b2b2"]);
    assert.deepEqual(await tables(db), ["a", "alembic_version", "athanor_history", "b"]);
    // stamp --purge accepts the edit: the recorded checksums are forgotten.
    assert.deepEqual((await m.stamp("b2b2", { purge: true })).after, ["b2b2"]);
    assert.deepEqual(await db.values("SELECT revision FROM athanor_history"), []);
    assert.deepEqual((await m.upgrade("head")).steps.map((s) => s.revision), ["c3c3"]);
    const changedC = { ...grown(edited), "c3c3_c.sql": file("c3c3", "b2b2", "CREATE TABLE c (y);", "DROP TABLE c;") };
    await assert.rejects((await db.open(changedC)).downgrade("base"), { code: "CHECKSUM_MISMATCH" });
  });

  hostTest(host, "stamp moves the version table and history without running anything; bad targets change nothing", async (db) => {
    const m = await db.open(grown(base));
    assert.deepEqual((await m.stamp("b2b2")).after, ["b2b2"]);
    // (Adapters create athanor_history with the version table; the embedded engine on first record.)
    assert.deepEqual((await tables(db)).filter((t) => t !== "athanor_history"), ["alembic_version"], "stamp ran no migration");
    await assert.rejects(m.stamp("nope"), { code: "UNKNOWN_REVISION" });
    assert.deepEqual(await m.rows(), ["b2b2"]);
    assert.deepEqual((await m.upgrade("head")).steps.map((s) => s.revision), ["c3c3"], "only what is above the stamp runs");
    assert.deepEqual(await db.values("SELECT revision FROM athanor_history"), ["c3c3"]);
    assert.deepEqual((await m.stamp("a1a1")).after, ["a1a1"]);
    assert.deepEqual(await db.values("SELECT revision FROM athanor_history"), [], "stamping down forgets what is no longer applied");
    assert.deepEqual((await m.stamp("base")).after, []);
    // Two targets naming one revision stamp it once (this used to trap in the wasm).
    assert.deepEqual((await m.stamp(["c3c3", "head"])).after, ["c3c3"]);
    // A row the migrations do not know: DATABASE_AHEAD.
    await assert.rejects((await db.open(base)).stamp("a1a1"), { code: "DATABASE_AHEAD" });
    assert.deepEqual(await m.rows(), ["c3c3"]);
  });

  hostTest(host, "a failing revision rolls the whole run back; per migration, the steps before it stay", async (db) => {
    const m = await db.open(failing);
    await assert.rejects(m.upgrade("head"), (e) => {
      assert.equal(e.code, "MIGRATION_FAILED");
      assert.equal(e.data.revision, "b2b2");
      assert.equal(e.data.line, 7);
      assert.match(e.data.sqliteMessage, /no such table: nope/);
      // SQLite's result code, where the host reports one (better-sqlite3 gives a name).
      assert.equal(e.data.sqliteCode, host.name === "better-sqlite3" ? undefined : 1);
      return true;
    });
    assert.deepEqual(await tables(db), []);
    const per = await db.open(failing, { transactionPerMigration: true });
    await assert.rejects(per.upgrade("head"), { code: "MIGRATION_FAILED" });
    assert.deepEqual(await per.rows(), ["a1a1"]);
    assert.deepEqual(await tables(db), ["a", "alembic_version", "athanor_history"]);
  });
}

for (const host of HOSTS) {
  hostTest(host, "after Alembic moved the version table (its downgrade, its stamp), a run leaves the embedded engine's history", async (db) => {
    const m = await db.open(grown(base));
    const history = async () => db.values("SELECT revision FROM athanor_history ORDER BY revision");
    const snaps = [];
    // Alembic knows nothing of athanor_history: its `downgrade a1a1` runs the downgrades
    // and moves the version table, its `stamp b2b2` only moves the table.
    await m.upgrade("head");
    await db.exec("DROP TABLE c; DROP TABLE b; UPDATE alembic_version SET version_num = 'a1a1';");
    assert.deepEqual((await m.upgrade("b2b2")).steps.map((s) => s.revision), ["b2b2"]);
    assert.deepEqual(await history(), ["a1a1", "b2b2"], "c3c3, no longer applied, is forgotten");
    snaps.push(await snapshot(db.values));
    await m.upgrade("head");
    await db.exec("UPDATE alembic_version SET version_num = 'b2b2';");
    assert.deepEqual((await m.downgrade("a1a1")).steps.map((s) => s.revision), ["b2b2"]);
    assert.deepEqual(await history(), ["a1a1"], "b2b2, downgraded, and c3c3, stamped away from, are forgotten");
    snaps.push(await snapshot(db.values));
    expected.moved ??= snaps;
    assert.deepEqual(snaps, expected.moved);
  });
}

// The embedded engine's case is a Rust test (src/sqlite/runner.rs): nothing outside it
// runs between its transactions. A node file's connection is athanor's own: the same
// run over the same primitives as the node:sqlite host here.
for (const host of HOSTS.filter((h) => h.name !== "embedded" && h.name !== "node file")) {
  hostTest(host, "a run that plans again after another migrator moved the version table verifies what that one applied", async (db) => {
    // The other migrator has another b2b2 (an edited file) and applies it right after
    // our a1a1, between our per-migration transactions (the adapter's step is the hook).
    const theirs = { ...grown(base), "b2b2_b.sql": file("b2b2", "a1a1", "CREATE TABLE b (x, y);", "DROP TABLE b;") };
    const inner = db.adapter();
    const otherMigrator = await db.open(theirs);
    let other = null;
    let commits = 0;
    // A run over a synchronous connection is synchronous inside: the other migrator's
    // upgrade runs to its end within this call, right after our a1a1 committed. A
    // batching host's run awaits each batch: the other one runs after our first.
    const adapter = host.batching
      ? {
          ...inner,
          async batch(statements) {
            await inner.batch(statements);
            if (++commits === 1) other = await otherMigrator.upgrade("b2b2");
          },
        }
      : {
          ...inner,
          connection: {
            ...inner.connection,
            exec(sql) {
              inner.connection.exec(sql);
              if (sql === "COMMIT" && ++commits === 1) otherMigrator.upgrade("b2b2").then((r) => (other = r));
            },
          },
        };
    const m = await db.open(grown(base), { transactionPerMigration: true, adapter });
    await assert.rejects(m.upgrade("head"), (e) => {
      assert.equal(e.code, "CHECKSUM_MISMATCH", e.message);
      assert.equal(e.data.revision, "b2b2");
      return true;
    });
    assert.deepEqual(other?.steps.map((s) => s.revision), ["b2b2"], "the other migrator found a1a1 applied");
    assert.deepEqual(await m.rows(), ["b2b2"]);
    assert.ok(!(await tables(db)).includes("c"), "c3c3 ran");
  });
}

for (const host of HOSTS.filter((h) => h.batching)) {
  for (const fresh of [true, false]) {
    hostTest(host, `another migrator ${fresh ? "on a fresh database" : "from a1a1"} applies everything before our batch: ours changes nothing and reports nothing applied`, async (db) => {
      const set = grown({ ...base, "b2b2_b.sql": file("b2b2", "a1a1", "CREATE TABLE b (x);\nINSERT INTO a VALUES ('b2b2');") });
      if (!fresh) await (await db.open(set)).upgrade("a1a1");
      const inner = db.adapter();
      const otherMigrator = await db.open(set);
      let other;
      // Both have planned from the same rows; the other one's batch commits first.
      const adapter = {
        ...inner,
        async batch(statements) {
          other ??= await otherMigrator.upgrade("head");
          await inner.batch(statements);
        },
      };
      const events = [];
      const m = await db.open(set, { adapter, onProgress: (e) => events.push(`${e.phase} ${e.revision} ${e.index}/${e.total}`) });
      const report = await m.upgrade("head");
      assert.deepEqual(other.steps.map((s) => s.revision), fresh ? ["a1a1", "b2b2", "c3c3"] : ["b2b2", "c3c3"]);
      // The guard failed our batch whole: nothing ran twice.
      assert.deepEqual(await db.values("SELECT x FROM a"), ["b2b2"]);
      assert.deepEqual(report, { steps: [], before: ["c3c3"], after: ["c3c3"], warnings: [], batches: "one", replans: 1 });
      // Our steps were started, then planned again: none of them is reported done.
      assert.deepEqual(events.filter((e) => e.startsWith("done")), []);
      assert.deepEqual(events, (fresh ? ["a1a1 0/3", "b2b2 1/3", "c3c3 2/3"] : ["b2b2 0/2", "c3c3 1/2"]).map((e) => `start ${e}`));
      assert.deepEqual((await snapshot(db.values)).versions, ["c3c3"]);
      assert.equal((await snapshot(db.values)).history.length, 3);
    });
  }

  hostTest(host, "past the adapter's maxBatch statements, a batch per migration, and the report says so", async (db) => {
    // As one batch, the run is 10 statements: the guard, 3 migrations, the version
    // table, its row, the history table and 3 history rows.
    const m = await openMigrator({ migrations: grown(base), adapter: { ...db.adapter(), maxBatch: 4 } });
    const report = await m.upgrade("head");
    assert.deepEqual(report.steps.map((s) => s.revision), ["a1a1", "b2b2", "c3c3"]);
    assert.equal(report.batches, "per-migration");
    assert.match(report.warnings.join("\n"), /one batch per migration: as one batch it would pass 4 statements, libsql's limit/);
    const big = await openMigrator({ migrations: grown(base), adapter: { ...host.fresh().adapter(), maxBatch: 100 } });
    const whole = await big.upgrade("head");
    assert.deepEqual([whole.batches, whole.warnings], ["one", []]);
  });
}

// A table rebuild as autogenerate writes it: its own transaction, foreign keys off.
const section = (up) => `-- Revision ID: b2b2\n-- Revises: a1a1\n-- Message: rebuild\n\n-- migrate:upgrade transaction:false\n${up}\n\n-- migrate:downgrade\nSELECT 1;\n`;
const rebuild = grown({ ...base, "b2b2_b.sql": section("PRAGMA foreign_keys=OFF;\nBEGIN;\nCREATE TABLE a_new (x, y DEFAULT 0);\nINSERT INTO a_new (x) SELECT x FROM a;\nDROP TABLE a;\nALTER TABLE a_new RENAME TO a;\nCOMMIT;\nPRAGMA foreign_keys=ON;") });
const brokenRebuild = grown({ ...base, "b2b2_b.sql": section("PRAGMA foreign_keys=ON;\nBEGIN;\nCREATE TABLE t9 (x);\nINSERT INTO nope VALUES (1);\nCOMMIT;") });
/** The migrating connection's foreign-key setting (the embedded engine's through its own
 * query pass-through; an adapter's host connection directly). */
const foreignKeys = async (db, m) => Number(db.adapter ? db.values("PRAGMA foreign_keys")[0] : (await m.query("PRAGMA foreign_keys"))[0].foreign_keys);

// The primitive under every synchronous adapter: a section's statements in one call.
for (const host of HOSTS.filter((h) => ["sqlite-wasm", "better-sqlite3", "node:sqlite"].includes(h.name))) {
  hostTest(host, "a section's statements run in one call: it stops after one that leaves no transaction open, and says which one threw", async (db) => {
    const { connection } = db.adapter();
    const tables = () => db.values("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") ?? [];
    connection.exec("BEGIN");
    assert.equal(connection.execEach("CREATE TABLE a (x);\0INSERT INTO a VALUES (1);", true), -1);
    // The second statement ends the transaction: nothing after it runs, where the driver
    // can tell (sqlite-wasm's oo1.DB cannot in Node: there the section runs on).
    const tells = connection.inTransaction() !== undefined;
    assert.equal(connection.execEach("CREATE TABLE b (x);\0COMMIT;\0CREATE TABLE c (x);", true), tells ? 1 : -1);
    assert.deepEqual(tables(), tells ? ["a", "b"] : ["a", "b", "c"]);
    // A transaction:false section: nothing is asked after each statement.
    assert.equal(connection.execEach("CREATE TABLE d (x);\0CREATE TABLE e (x);", false), -1);
    assert.throws(() => connection.execEach("CREATE TABLE f (x);\0INSERT INTO nope VALUES (1);\0CREATE TABLE g (x);", false), (thrown) => {
      assert.equal(thrown.at, 1);
      assert.match(String(thrown.error?.message), /no such table: nope/);
      return true;
    });
    assert.ok(tables().includes("f") && !tables().includes("g"), tables().join());
  });
}

// A batching host runs every statement inside a batch's transaction: a section's own
// BEGIN fails there (as on D1, which refuses BEGIN). As on every host, what ran before
// the section was committed first; the section's batch changes nothing.
for (const host of HOSTS.filter((h) => h.batching)) {
  hostTest(host, "a transaction:false section that opens its own transaction fails inside the batch and changes nothing", async (db) => {
    const m = await db.open(rebuild);
    await assert.rejects(m.upgrade("head"), (e) => {
      assert.equal(e.code, "MIGRATION_FAILED", e.message);
      assert.equal(e.data.revision, "b2b2");
      assert.equal(e.data.statement, "BEGIN;");
      assert.match(e.data.sqliteMessage, /cannot start a transaction within a transaction/);
      return true;
    });
    assert.deepEqual(await tables(db), ["a", "alembic_version", "athanor_history"]);
    assert.deepEqual(await db.values("SELECT name FROM pragma_table_info('a')"), ["x"]);
    assert.deepEqual(await m.rows(), ["a1a1"]);
  });
}

for (const host of HOSTS.filter((h) => !h.batching)) {
  hostTest(host, "a transaction:false section runs outside the run's transaction; the connection's foreign-key setting comes back", async (db) => {
    const m = await db.open(rebuild);
    assert.equal(await foreignKeys(db, m), 0);
    assert.deepEqual((await m.upgrade("head")).steps.map((s) => s.revision), ["a1a1", "b2b2", "c3c3"]);
    assert.equal(await foreignKeys(db, m), 0, "the section's PRAGMA foreign_keys=ON stayed");
    assert.deepEqual(await tables(db), ["a", "alembic_version", "athanor_history", "c"]);
    assert.deepEqual(await db.values("SELECT name FROM pragma_table_info('a')"), ["x", "y"]);

    // Failing inside its own transaction: rolled back, nothing left open, setting restored.
    const db2 = host.fresh();
    const bad = await db2.open(brokenRebuild);
    await assert.rejects(bad.upgrade("head"), (e) => {
      assert.equal(e.code, "MIGRATION_FAILED", e.message);
      assert.equal(e.data.revision, "b2b2");
      return true;
    });
    assert.equal(await foreignKeys(db2, bad), 0);
    assert.ok(!(await tables(db2)).includes("t9"), "the failed section's table stayed");
    // No transaction was left open: the next run fails the same way, not with "within a transaction".
    await assert.rejects(bad.upgrade("head"), { code: "MIGRATION_FAILED", message: /no such table: nope/ });
  });

  hostTest(host, "one migrator, several runs: athanor's writes follow the schema changing between them (its statements are prepared once per connection)", async (db) => {
    const m = await db.open(grown(base));
    await m.upgrade("b2b2");
    // The app drops athanor's history table between two runs: the history insert
    // prepared in the first is prepared again against the table the second creates.
    await db.exec("DROP TABLE athanor_history");
    assert.deepEqual((await m.upgrade("head")).steps.map((s) => s.revision), ["c3c3"]);
    assert.deepEqual(await db.values("SELECT revision FROM athanor_history ORDER BY revision"), ["c3c3"]);
    await m.downgrade("base");
    assert.deepEqual(await db.values("SELECT count(*) FROM athanor_history"), [0]);
    assert.deepEqual(await db.values("SELECT count(*) FROM alembic_version"), [0]);
    assert.deepEqual((await m.upgrade("head")).steps.map((s) => s.revision), ["a1a1", "b2b2", "c3c3"]);
    assert.deepEqual(await db.values("SELECT revision FROM athanor_history ORDER BY revision"), ["a1a1", "b2b2", "c3c3"]);
    assert.deepEqual(await db.values("SELECT version_num FROM alembic_version"), ["c3c3"]);
  });

  hostTest(host, "a version table whose rows are numbers (made by another tool, without a type) reads them as JS writes numbers", async (db) => {
    await db.exec("CREATE TABLE alembic_version (version_num); INSERT INTO alembic_version VALUES (1.5); INSERT INTO alembic_version VALUES (7);");
    const m = await db.open(base);
    assert.deepEqual(await m.rows(), ["1.5", "7"]);
  });

  hostTest(host, "current, history and the offline SQL answer as the embedded engine's", async (db) => {
    const m = await db.open(grown(base));
    await m.upgrade("b2b2");
    assert.deepEqual(await m.current(), ["b2b2"]);
    assert.deepEqual((await m.history()).map((h) => [h.revision, h.revises, h.isHead]), [["c3c3", ["b2b2"], true], ["b2b2", ["a1a1"], false], ["a1a1", [], false]]);
    assert.deepEqual((await m.history("a1a1:b2b2")).map((h) => h.revision), ["b2b2", "a1a1"]);
    await assert.rejects(async () => m.history("nope"), { code: "USAGE" });
    const sql = await m.plan("head");
    assert.match(sql, /-- Running upgrade b2b2 -> c3c3\n\nCREATE TABLE c \(x\);/);
    assert.doesNotMatch(sql, /a1a1 ->/);
    assert.match(await m.plan("base", { direction: "downgrade" }), /-- Running downgrade b2b2 -> a1a1[\s\S]*DROP TABLE a;/);
    assert.match(await m.plan("head", { from: [] }), /CREATE TABLE alembic_version/);
    assert.deepEqual(await m.rows(), ["b2b2"], "plan touched nothing");
    await m.upgrade("head");
    await assert.rejects((await db.open(base)).current(), { code: "DATABASE_AHEAD", data: { revision: "c3c3" } });
  });
}

/** `athanor bundle` of `set`, through the package's CLI, imported as a Worker would. */
async function bundleOf(set) {
  const dir = mkdtempSync(join(work, "bundle-"));
  for (const [name, text] of Object.entries(set)) writeFileSync(join(dir, name), text);
  execFileSync(process.execPath, [join(pkg, "cli.cjs"), "--dir", dir, "bundle", "-o", join(dir, "migrations.mjs")], { stdio: "pipe" });
  return import(pathToFileURL(join(dir, "migrations.mjs")).href);
}

for (const host of HOSTS.filter((h) => h.name !== "embedded")) {
  hostTest(host, "a bundle names its heads: at head, the check reads the version table and parses nothing", async (db) => {
    const bundle = await bundleOf(grown(base));
    assert.deepEqual(bundle.heads, ["c3c3"]);
    assert.deepEqual(Object.keys(bundle.default).sort(), ["a1a1_a.sql", "b2b2_b.sql", "c3c3_c.sql"], "the heads stay out of iteration");
    assert.equal((await (await db.open(bundle.default)).upgrade("head")).steps.length, 3);

    // Proof that nothing is parsed at head: a text broken after bundling goes unnoticed
    // by the at-head check, while the same set without the bundle's heads is refused.
    const broken = { ...bundle.default, "c3c3_c.sql": "not a migration" };
    Object.defineProperty(broken, Symbol.for("athanor.heads"), { value: bundle.heads });
    const m = await db.open(broken);
    assert.deepEqual(await m.upgrade("head"), { steps: [], before: ["c3c3"], after: ["c3c3"], warnings: [] });
    assert.deepEqual(await m.upgrade("heads"), { steps: [], before: ["c3c3"], after: ["c3c3"], warnings: [] });
    await assert.rejects(m.downgrade("-1"), { code: "PARSE_ERROR" }, "anything else parses first");
    await assert.rejects(db.open({ ...broken }), { code: "PARSE_ERROR" });

    // A newer bundle has other heads: the check plans and runs what is missing.
    const next = await bundleOf({ ...grown(base), "d4d4_d.sql": file("d4d4", "c3c3", "CREATE TABLE d (x);", "DROP TABLE d;") });
    assert.deepEqual((await (await db.open(next.default)).upgrade("head")).steps.map((s) => s.revision), ["d4d4"]);
    assert.deepEqual(await (await db.open(next.default)).current(), ["d4d4"]);
  });
}

test("better-sqlite3 migrates a database in WAL mode (which the embedded Node file VFS refuses), with the app's connection open", async () => {
  const path = join(work, "wal.db");
  const app = new BetterSqlite3(path);
  app.pragma("journal_mode = WAL");
  app.exec("CREATE TABLE keep (v); INSERT INTO keep VALUES ('precious');");
  const db = new BetterSqlite3(path);
  db.pragma("foreign_keys = OFF");
  const m = await openMigrator({ migrations: grown(base), adapter: athanor.betterSqlite3(db) });
  assert.deepEqual((await m.upgrade("head")).steps.map((s) => s.revision), ["a1a1", "b2b2", "c3c3"]);
  // The app's own connection sees the new schema and its data at once.
  assert.deepEqual(app.prepare("SELECT version_num FROM alembic_version").pluck().all(), ["c3c3"]);
  assert.deepEqual(app.prepare("SELECT v FROM keep").pluck().all(), ["precious"]);
  assert.equal(app.pragma("journal_mode", { simple: true }), "wal");
  await assert.rejects(openMigrator({ migrations: grown(base), database: path, vfs: "athanor-node" }), { code: "IO_ERROR", message: /is in WAL mode/ });
  db.close();
  app.close();
});

test("better-sqlite3 on a file: the file stays locked through a transaction:false step, so a second process's migrator cannot run its section too", async () => {
  const path = join(work, "race.db");
  const set = {
    "a1a1_a.sql": file("a1a1", "", "CREATE TABLE log (step);\nINSERT INTO log VALUES ('a1a1');"),
    "b2b2_b.sql": file("b2b2", "a1a1", "INSERT INTO log VALUES ('b2b2');").replace("-- migrate:upgrade", "-- migrate:upgrade transaction:false"),
    "c3c3_c.sql": file("c3c3", "b2b2", "INSERT INTO log VALUES ('c3c3');"),
  };
  const mine = new BetterSqlite3(path);
  const other = new BetterSqlite3(path, { timeout: 100 }); // another process's connection
  let raced;
  const inner = athanor.betterSqlite3(mine);
  const otherMigrator = await openMigrator({ migrations: set, adapter: athanor.betterSqlite3(other) });
  // Right where the section is about to run outside any transaction, the other migrator
  // tries (its run over a synchronous connection completes within this call).
  const adapter = {
    ...inner,
    connection: {
      ...inner.connection,
      exec(sql) {
        if (sql.includes("VALUES ('b2b2')")) otherMigrator.upgrade("head").then((r) => (raced = r.steps.length), (e) => (raced = e.code));
        inner.connection.exec(sql);
      },
    },
  };
  const report = await (await openMigrator({ migrations: set, adapter })).upgrade("head");
  assert.deepEqual(report.steps.map((s) => s.revision), ["a1a1", "b2b2", "c3c3"]);
  assert.equal(raced, "LOCKED", "the other migrator could not even read the version table");
  assert.deepEqual(other.prepare("SELECT step FROM log ORDER BY rowid").pluck().all(), ["a1a1", "b2b2", "c3c3"]);
  assert.deepEqual(other.prepare("SELECT version_num FROM alembic_version").pluck().all(), ["c3c3"]);
  other.close();
  mine.close();
});

test("better-sqlite3 on a file: a failing transaction:false section gives the lock back", async () => {
  const path = join(work, "race-fail.db");
  const set = {
    "a1a1_a.sql": file("a1a1", "", "CREATE TABLE log (step);"),
    "b2b2_b.sql": file("b2b2", "a1a1", "INSERT INTO nope VALUES (1);").replace("-- migrate:upgrade", "-- migrate:upgrade transaction:false"),
  };
  const mine = new BetterSqlite3(path);
  const other = new BetterSqlite3(path, { timeout: 100 });
  await assert.rejects((await openMigrator({ migrations: set, adapter: athanor.betterSqlite3(mine) })).upgrade("head"), { code: "MIGRATION_FAILED" });
  assert.equal(mine.pragma("locking_mode", { simple: true }), "normal");
  // Another connection reads and writes at once: nothing is held.
  assert.deepEqual(other.prepare("SELECT version_num FROM alembic_version").pluck().all(), ["a1a1"]);
  other.exec("INSERT INTO log VALUES ('other')");
  assert.deepEqual(mine.prepare("SELECT step FROM log").pluck().all(), ["other"]);
  other.close();
  mine.close();
});

// libSQL's pool and busy timeout, through real clients on one file (as four processes).
const logged = {
  "a1a1_a.sql": file("a1a1", "", "CREATE TABLE log (step TEXT NOT NULL);\nINSERT INTO log VALUES ('a1a1');"),
  "b2b2_b.sql": file("b2b2", "a1a1", "INSERT INTO log VALUES ('b2b2');"),
  "c3c3_c.sql": file("c3c3", "b2b2", "INSERT INTO log VALUES ('c3c3');"),
};

test("libsql: four clients migrating one fresh file at once apply each migration once", async () => {
  const path = join(work, "libsql-race.db");
  // libSQL's native calls are synchronous: in one process the four runs interleave
  // between calls (each reads, plans, then sends its batch), never inside a batch.
  const clients = Array.from({ length: 4 }, () => libsqlClient(path));
  const reports = await Promise.all(clients.map(async (c) => (await openMigrator({ migrations: logged, adapter: athanor.libsql(c) })).upgrade("head")));
  const log = (await clients[0].execute("SELECT step FROM log ORDER BY rowid")).rows.map((r) => r[0]);
  assert.deepEqual(log, ["a1a1", "b2b2", "c3c3"]);
  assert.deepEqual(reports.map((r) => r.steps.length).sort(), [0, 0, 0, 3]);
  // All four planned from an empty file: the three that lost planned again.
  assert.deepEqual(reports.map((r) => r.replans).sort(), [0, 1, 1, 1]);
  for (const r of reports) assert.deepEqual(r.after, ["c3c3"]);
  assert.equal((await clients[0].execute("PRAGMA integrity_check")).rows[0][0], "ok");
  assert.equal((await clients[0].execute("SELECT count(*) FROM athanor_history")).rows[0][0], 3);
});

test("libsql: another process's write lock is LOCKED at once without a timeout (nothing written), waited out with one", async () => {
  const path = join(work, "libsql-locked.db");
  const holder = libsqlClient(path);
  await holder.execute("CREATE TABLE app (x)");
  // Another process holds the write lock for a second. (In this process it could not
  // let go: libSQL's busy wait blocks the thread, as its calls are synchronous.)
  const other = spawn("python3", ["-c", "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nc.execute('INSERT INTO app VALUES (1)')\nprint('locked', flush=True)\ntime.sleep(1)\nc.execute('COMMIT')", path], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => other.on("exit", resolve));
  await new Promise((resolve) => other.stdout.once("data", resolve));
  const quick = await openMigrator({ migrations: logged, adapter: athanor.libsql(libsqlClient(path)) });
  await assert.rejects(quick.upgrade("head"), (e) => {
    assert.equal(e.code, "LOCKED", e.message);
    assert.match(e.message, /database is locked/);
    return true;
  });
  assert.deepEqual((await holder.execute("SELECT name FROM sqlite_master")).rows.map((r) => r[0]), ["app"], "nothing written");
  const patient = await openMigrator({ migrations: logged, adapter: athanor.libsql(libsqlClient(path, { timeout: 10_000 })) });
  assert.deepEqual((await patient.upgrade("head")).steps.map((s) => s.revision), ["a1a1", "b2b2", "c3c3"]);
  assert.equal(await exited, 0);
  assert.deepEqual((await holder.execute("SELECT count(*) FROM app")).rows[0][0], 1);
});

// `athanor adopt` through the JS API: a database made without migrations.
const LEGACY = `CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE note (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES account(id), body TEXT);
CREATE INDEX note_account ON note (account_id);
CREATE VIEW note_count AS SELECT account_id, count(*) AS n FROM note GROUP BY account_id;
CREATE TRIGGER note_trim AFTER INSERT ON note BEGIN UPDATE note SET body = trim(body) WHERE id = new.id; END;
INSERT INTO account (email) VALUES ('a@example.org');`;
const userSchema = (db) =>
  db.values("SELECT type || ' ' || name || ' ' || sql FROM sqlite_master WHERE name NOT IN ('alembic_version', 'athanor_history') AND sql IS NOT NULL ORDER BY type, name");

for (const host of HOSTS) {
  hostTest(host, "adopt writes a base revision of a database made without migrations and stamps it; upgraded through it, a fresh database gets the same schema", async (db) => {
    await db.exec(LEGACY);
    const m = await db.open([]);
    if (host.name === "embedded" || host.name === "libsql") {
      // No synchronous connection of the host's (the embedded engine on a VFS; a batching client).
      await assert.rejects(m.adopt(), { code: "USAGE" });
      return;
    }
    const adopted = await m.adopt({ message: "adopt legacy", revision: "aaaa00000001" });
    assert.equal(adopted.revision, "aaaa00000001");
    assert.equal(adopted.fileName, "aaaa00000001_adopt_legacy.sql");
    assert.match(adopted.text, /^-- Revision ID: aaaa00000001\n-- Revises:\n[^]*-- migrate:upgrade\nCREATE TABLE account/);
    assert.match(adopted.schema, /CREATE TRIGGER note_trim/);
    assert.deepEqual(db.values("SELECT version_num FROM alembic_version"), ["aaaa00000001"]);
    assert.deepEqual(db.values("SELECT email FROM account"), ["a@example.org"], "the rows stay");
    await assert.rejects(m.adopt(), { code: "USAGE" }, "already under migrations");

    const fresh = host.fresh();
    const again = await fresh.open({ [adopted.fileName]: adopted.text });
    await again.upgrade("head");
    assert.deepEqual(userSchema(fresh), userSchema(db));
    await again.downgrade("base");
    assert.deepEqual(userSchema(fresh), [], "the downgrade drops it all");
    // With migrations, adopt is refused: it writes the first revision.
    await assert.rejects(again.adopt(), { code: "USAGE" });
  });
}
