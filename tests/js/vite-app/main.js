// What an app author writes: the migrations bundled as raw text, the package imported by
// name, and the schema upgraded on page load. tests/js/vite.test.mjs builds and loads this.
import { openMigrator, MigrationError, d1 } from "athanor";

const migrations = import.meta.glob("./migrations/*.sql", { query: "?raw", import: "default", eager: true });
const show = (id, value) => (document.getElementById(id).textContent = value);

// Anything unexpected lands in #fatal, so the test reports it instead of timing out.
try {
  const m = await openMigrator({ migrations });
  const report = await m.upgrade("head");
  show("out", JSON.stringify({
    current: await m.current(),
    steps: report.steps.map((s) => s.revision),
    history: (await m.history()).map((h) => h.revision),
    plan: m.plan("head", { from: [] }).includes("CREATE TABLE note"),
  }));

  // A second database: a bad target must reject with a typed error and change nothing.
  const bad = await openMigrator({ migrations });
  try {
    await bad.upgrade("ffffffffffff");
    show("err", "no error");
  } catch (e) {
    show("err", JSON.stringify({
      code: e.code,
      isMigrationError: e instanceof MigrationError,
      isError: e instanceof Error,
      current: await bad.current(),
    }));
  }

  // An adapter's migrator runs on the adapter wasm, which web.js fetches only now: here
  // a D1-shaped binding over another in-memory database of the embedded engine.
  const host = await openMigrator({ migrations: [] });
  const binding = {
    prepare: (sql) => ({
      bind: (...params) => ({ sql, params, raw: async () => (await host.query(sql, params)).map((row) => Object.values(row)) }),
    }),
    async batch(statements) {
      await host.exec("BEGIN");
      try {
        for (const s of statements) await host.exec(s.sql, s.params);
        await host.exec("COMMIT");
      } catch (e) {
        await host.exec("ROLLBACK");
        throw e;
      }
    },
  };
  const viaAdapter = await openMigrator({ migrations, adapter: d1(binding) });
  const run = await viaAdapter.upgrade("head");
  show("adapter", JSON.stringify({
    current: await viaAdapter.current(),
    steps: run.steps.map((s) => s.revision),
    tables: (await host.query("SELECT count(*) AS n FROM sqlite_master WHERE name = 'note'"))[0].n,
  }));
} catch (e) {
  const pre = document.createElement("pre");
  pre.id = "fatal";
  pre.textContent = `${e?.name}: ${e?.message} (code ${e?.code})\n${e?.stack}`;
  document.body.append(pre);
} finally {
  document.body.dataset.done = "1";
}
