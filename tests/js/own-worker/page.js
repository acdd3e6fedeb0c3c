// Drives the app's worker, then opens the same database from the page (the package
// starts its own worker for that): both share one OPFS pool through the lease.
import { openMigrator } from "/pkg/web.js";
import { migrations } from "./migrations.js";

const worker = new Worker(new URL("./own-worker.js", import.meta.url), { type: "module" });
const ask = (msg) => new Promise((resolve) => {
  worker.onmessage = ({ data }) => resolve(data);
  worker.postMessage(msg);
});
const result = {};
try {
  result.worker = await ask("open");
  const page = await openMigrator({ database: "own.db", migrations });
  result.pageSteps = (await page.upgrade("head")).steps.length;
  result.pageRows = await page.query("SELECT name FROM item");
  await page.exec("INSERT INTO item (name) VALUES ('from the page')");
  result.workerSees = await ask({ sql: "SELECT name FROM item ORDER BY id" });
  await page.close();
  result.many = await ask({ many: 7 });
} catch (e) {
  result.error = { code: e.code, message: e.message };
}
window.result = result;
document.body.dataset.state = "done";
