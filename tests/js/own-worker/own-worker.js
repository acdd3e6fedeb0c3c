// An app that keeps its database in its own dedicated worker: the same openMigrator,
// which runs right here (no second worker) on OPFS.
import { openMigrator } from "/pkg/web.js";
import { migrations } from "./migrations.js";

let m;
self.onmessage = async ({ data }) => {
  try {
    if (data === "open") {
      const events = [];
      m = await openMigrator({ database: "own.db", migrations, onProgress: (e) => events.push(`${e.phase} ${e.revision}`) });
      const report = await m.upgrade("head");
      self.postMessage({ ok: { steps: report.steps.length, events, current: await m.current(), workerKind: self.constructor.name } });
    } else if (data.many) {
      // Several databases in one pool: it starts with room for one and grows.
      const out = [];
      for (let i = 0; i < data.many; i++) {
        const db = await openMigrator({ database: `many-${i}.db`, migrations });
        out.push((await db.upgrade("head")).steps.length);
        await db.exec(`INSERT INTO item (name) VALUES ('db ${i}')`);
        await db.close();
      }
      const again = await openMigrator({ database: "many-0.db", migrations });
      self.postMessage({ ok: { steps: out, files: (await m.files()).sort(), first: await again.query("SELECT name FROM item") } });
      await again.close();
    } else if (data.sql) {
      self.postMessage({ ok: await m.query(data.sql, data.params ?? []) });
    }
  } catch (e) {
    self.postMessage({ error: { code: e.code, message: e.message } });
  }
};
