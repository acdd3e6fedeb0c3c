// The baseline: the official build, its OPFS sahpool VFS, the same SQL in one transaction
// (what the migrations' upgrade sections and the version table amount to). A database
// that already has the version table is at head: nothing runs (the warm case).
import sqlite3InitModule from "/node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs";

self.onmessage = async ({ data: { name, sql } }) => {
  try {
    const sqlite3 = await sqlite3InitModule();
    const pool = await sqlite3.installOpfsSAHPoolVfs({ directory: "bench-official" });
    const db = new pool.OpfsSAHPoolDb(name);
    const atHead = db.selectValue("SELECT count(*) FROM sqlite_schema WHERE name = 'alembic_version'") === 1;
    if (!atHead) db.exec(`BEGIN;\n${sql}\nCOMMIT;`);
    db.close();
    self.postMessage({ steps: atHead ? 0 : -1 });
  } catch (e) {
    self.postMessage({ error: String(e?.message ?? e) });
  }
};
