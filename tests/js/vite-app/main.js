// What an app author writes: the migrations bundled as raw text, the package imported by
// name, and the schema upgraded on page load. tests/js/vite.test.mjs builds and loads this.
import { openMigrator, MigrationError } from "athanor";

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
} catch (e) {
  const pre = document.createElement("pre");
  pre.id = "fatal";
  pre.textContent = `${e?.name}: ${e?.message} (code ${e?.code})\n${e?.stack}`;
  document.body.append(pre);
} finally {
  document.body.dataset.done = "1";
}
