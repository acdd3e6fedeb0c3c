// Drives the package's page side against workers that fail; `?pkg=` names a copy of the
// package (one without opfs-worker.js, one without athanor_bg.wasm, an intact one).
const pkg = new URLSearchParams(location.search).get("pkg");
const { openMigrator } = await import(`./${pkg}/web.js`);
const { WorkerMigrator } = await import(`./${pkg}/worker-client.js`);

const migrations = ["-- Revision ID: a1\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE t (x TEXT NOT NULL);\n"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A hang is what the bug looked like: give each call 15 s to settle.
const settle = (p) =>
  Promise.race([
    Promise.resolve(p).then(
      (ok) => ({ ok: ok === undefined ? null : ok }),
      (e) => ({ code: e?.code, message: String(e?.message ?? e) }),
    ),
    sleep(15_000).then(() => ({ hung: true })),
  ]);

const result = {};
try {
  let m;
  result.open = await settle(openMigrator({ database: `w-${pkg}.db`, migrations }).then((opened) => void (m = opened)));
  if (m) {
    result.upgrade = await settle(m.upgrade("head").then((r) => r.after));
    result.exec = await settle(m.exec("INSERT INTO t VALUES (?)", ["bound"]));
    result.rows = await settle(m.query("SELECT x FROM t"));
    await m.close();
  }
  if (pkg !== "pkg") {
    // The worker client alone: a call pending when the worker dies, and one made after.
    for (const [name, url] of [["missing", "./no-such-worker.js"], ["crash", "./crash-worker.js"]]) {
      const m = new WorkerMigrator(new Worker(url, { type: "module" }));
      const pending = settle(m.current());
      await sleep(1_000);
      result[name] = { pending: await pending, later: await settle(m.current()) };
    }
  }
} catch (e) {
  result.error = String(e?.stack ?? e);
}
window.result = result;
document.body.dataset.state = "done";
