// The demo app (www/) in a real browser: `npm pack`ed package installed next to Vite in a
// copy of www/, `vite build`, served on localhost and driven in Debian's headless Chromium
// with persistent profiles, so OPFS really persists between loads. Every scenario of
// issue 4: fresh profile, a new release, two tabs at once, a failing migration, a tab
// closed mid-upgrade, old code meeting a newer database, and no OPFS at all.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CHROMIUM, CHROMIUM_ARGS, PLAYWRIGHT, serveStatic, sleep } from "./support/browser.mjs";

const run = promisify(execFile);
const pkg = process.env.ATHANOR_PKG ?? fileURLToPath(new URL("../../pkg/", import.meta.url));
const www = fileURLToPath(new URL("../../www/", import.meta.url));
const artifacts = fileURLToPath(new URL("../../target/test-artifacts/", import.meta.url));
const VITE = "vite@8.3.8";

const REVS = ["0a1b2c3d4e5f", "1b2c3d4e5f60", "2c3d4e5f6071", "3d4e5f607182", "4e5f60718293", "5f60718293a4"];
const HEAD = REVS[5];
const RELEASE_1_HEAD = REVS[3];
const ATTACHMENTS = "6071829304b5";
const SLOW = "708192a3b4c5";

let project, chromium, site;
const cleanup = [];

before(async () => {
  const packDir = mkdtempSync(join(tmpdir(), "athanor-www-pack-"));
  project = mkdtempSync(join(tmpdir(), "athanor-www-"));
  cleanup.push(() => rmSync(packDir, { recursive: true, force: true }), () => rmSync(project, { recursive: true, force: true }));
  await run("npm", ["pack", "--silent", "--pack-destination", packDir], { cwd: pkg, timeout: 30_000 });
  const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith(".tgz")));
  for (const f of ["index.html", "main.js", "style.css", "vite.config.js", "migrations", "test-migrations"]) {
    cpSync(join(www, f), join(project, f), { recursive: true });
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "www-under-test", private: true, type: "module" }));
  await run("npm", ["install", "--no-audit", "--no-fund", "--silent", "--save-exact", tarball, VITE, PLAYWRIGHT], {
    cwd: project,
    timeout: 120_000,
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  });
  await run(process.execPath, [join(project, "node_modules/vite/bin/vite.js"), "build"], { cwd: project, timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
  const served = await serveStatic(join(project, "dist"));
  cleanup.push(() => served.server.close());
  site = served.url;
  ({ chromium } = await import(pathToFileURL(join(project, "node_modules/playwright-core/index.mjs")).href));
});

after(async () => {
  for (const f of cleanup.reverse()) {
    try {
      await f();
    } catch {
      // Later cleanups still run.
    }
  }
});

/** A browser with a fresh persistent profile (its own OPFS); closed after `fn`. */
async function withProfile(fn) {
  const dir = mkdtempSync(join(tmpdir(), "athanor-profile-"));
  // insecure.test resolves to this machine over plain http: not a secure context.
  const args = [...CHROMIUM_ARGS.filter((a) => a !== "--headless"), "--host-resolver-rules=MAP insecure.test 127.0.0.1"];
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args, headless: true, timeout: 30_000 });
  try {
    return await fn(context);
  } finally {
    await Promise.race([context.close(), sleep(5_000)]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens the demo (in `page`, or a new page) with `query`; resolves once it is ready or
 * shows an error, to what it shows. */
async function load(context, query = "", page) {
  page ??= await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(new URL(query, site).href);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state));
  const state = await shown(page);
  return { page, ...state, problems };
}

/** The demo's state as the page holds it. */
function shown(page) {
  return page.evaluate(() => ({
    state: document.body.dataset.state,
    current: window.demo.current ?? null,
    stepsRun: window.demo.stepsRun ?? null,
    error: window.demo.error,
    errorText: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
    notes: window.demo.notes ?? [],
    log: (window.demo.log ?? []).map((r) => `${r.revision} ${r.direction}`),
  }));
}

/** SQL through the page's own migrator (the app's pass-through). */
const sql = (page, text, params = []) => page.evaluate(([t, p]) => window.demo.migrator.query(t, p), [text, params]);

const upgrades = (log) => log.filter((l) => l.endsWith(" upgrade")).map((l) => l.split(" ")[0]);

test("fresh profile: upgrades to head on load, notes survive a reload, nothing migrates twice", { timeout: 90_000 }, async () => {
  await withProfile(async (context) => {
    const first = await load(context);
    assert.equal(first.state, "ready", JSON.stringify(first));
    assert.deepEqual(first.current, [HEAD]);
    assert.equal(first.stepsRun, 6);
    assert.deepEqual(upgrades(first.log), REVS);
    assert.equal(await first.page.textContent("#current"), HEAD);

    // Through the form, as a person would.
    await first.page.fill("input[name=title]", "Groceries");
    await first.page.fill("input[name=tags]", "Home, errands");
    await first.page.fill("textarea[name=body]", "eggs, flour");
    await first.page.click("#new-note button");
    await first.page.waitForFunction(() => window.demo.notes?.length === 1);

    const again = await load(context, "", first.page);
    assert.equal(again.state, "ready");
    assert.equal(again.stepsRun, 0, "the reload migrated again");
    assert.deepEqual(again.current, [HEAD]);
    assert.deepEqual(again.notes.map((n) => [n.title, n.body, n.tags]), [["Groceries", "eggs, flour", ["errands", "home"]]]);
    assert.deepEqual(upgrades(again.log), REVS, "a migration ran twice");
    assert.match(await again.page.textContent("#state"), /already at head/);
    mkdirSync(artifacts, { recursive: true });
    await again.page.screenshot({ path: join(artifacts, "www-demo.png"), fullPage: true });

    // The buttons: one step down (the table rebuild reverted), and back up.
    await again.page.click("#downgrade");
    await again.page.waitForFunction((rev) => document.body.dataset.current === rev && document.body.dataset.state === "ready", REVS[4]);
    const cols = (await sql(again.page, "SELECT name FROM pragma_table_info('note')")).map((r) => r.name);
    assert.ok(cols.includes("tags"), `downgrade did not restore note.tags: ${cols}`);
    await again.page.click("#upgrade");
    await again.page.waitForFunction((rev) => document.body.dataset.current === rev && document.body.dataset.state === "ready", HEAD);
    const after = await shown(again.page);
    assert.deepEqual(after.log.slice(6), [`${HEAD} downgrade`, `${HEAD} upgrade`]);
    assert.deepEqual(after.notes.map((n) => n.title), ["Groceries"]);
    assert.deepEqual(first.problems, []);
  });
});

test("a new release upgrades the stored database in place; old notes are rewritten by its data migration", { timeout: 90_000 }, async () => {
  await withProfile(async (context) => {
    const old = await load(context, "?release=1");
    assert.deepEqual([old.state, old.current, old.stepsRun], ["ready", [RELEASE_1_HEAD], 4]);
    await old.page.evaluate(() => window.demo.addNote({ title: "Plan", body: "trip", tags: "Work, home ,WORK" }));
    await old.page.evaluate(() => window.demo.addNote({ title: "", body: "no title here", tags: "" }));
    assert.deepEqual((await sql(old.page, "SELECT tags FROM note ORDER BY id")).map((r) => r.tags), ["Work, home ,WORK", ""]);

    const next = await load(context, "", old.page);
    assert.deepEqual([next.state, next.current, next.stepsRun], ["ready", [HEAD], 2], JSON.stringify(next));
    // The data migration moved the tags into tag tables (trimmed, lower-cased, merged);
    // the rebuild gave the untitled note a title and dropped the old column.
    assert.deepEqual(next.notes.map((n) => [n.title, n.body, n.tags]), [["Plan", "trip", ["home", "work"]], ["no title here", "no title here", []]]);
    const cols = (await sql(next.page, "SELECT name FROM pragma_table_info('note')")).map((r) => r.name);
    assert.deepEqual(cols, ["id", "title", "body", "created_at", "pinned"]);
    assert.deepEqual(upgrades(next.log), REVS);
    assert.deepEqual(await sql(next.page, "PRAGMA integrity_check"), [{ integrity_check: "ok" }]);
  });
});

test("two tabs opened at the same moment: each migration runs once, both end at head", { timeout: 90_000 }, async () => {
  await withProfile(async (context) => {
    const [a, b] = await Promise.all([context.newPage(), context.newPage()]);
    const [ra, rb] = await Promise.all([load(context, "", a), load(context, "", b)]);
    for (const r of [ra, rb]) assert.deepEqual([r.state, r.current], ["ready", [HEAD]], JSON.stringify(r));
    // One tab did the work inside the lock; the other found the database at head.
    assert.deepEqual([ra.stepsRun, rb.stepsRun].sort(), [0, 6]);
    const log = await sql(a, "SELECT revision, count(*) AS n FROM migration_log GROUP BY revision ORDER BY revision");
    assert.deepEqual(log, REVS.map((revision) => ({ revision, n: 1 })));
    // Both keep working on the one database: a note written in one is read in the other.
    await a.evaluate(() => window.demo.addNote({ title: "from a", body: "", tags: "x" }));
    assert.deepEqual(await sql(b, "SELECT title FROM note"), [{ title: "from a" }]);
  });
});

test("a migration failing half-way shows its revision and leaves the previous revision's data intact", { timeout: 90_000 }, async () => {
  await withProfile(async (context) => {
    const ok = await load(context);
    await ok.page.evaluate(() => window.demo.addNote({ title: "Keep me", body: "safe", tags: "a" }));

    const bad = await load(context, "?migrations=broken", ok.page);
    assert.equal(bad.state, "error");
    assert.equal(bad.error.code, "MIGRATION_FAILED");
    assert.equal(bad.error.revision, ATTACHMENTS);
    assert.match(bad.errorText, new RegExp(`MIGRATION_FAILED in revision ${ATTACHMENTS}: .*attachments_typo`));
    // Nothing of the failed revision stayed: no table, titles untouched, same revision.
    assert.deepEqual(await bad.page.evaluate(() => window.demo.migrator.current()), [HEAD]);
    assert.deepEqual(await sql(bad.page, "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'attachment'"), [{ n: 0 }]);
    assert.deepEqual(await sql(bad.page, "SELECT title, body FROM note"), [{ title: "Keep me", body: "safe" }]);

    const fixed = await load(context, "?migrations=fixed", bad.page);
    assert.deepEqual([fixed.state, fixed.current, fixed.stepsRun], ["ready", [ATTACHMENTS], 1], JSON.stringify(fixed));
    assert.deepEqual(fixed.notes.map((n) => n.title), ["Keep me"]);
  });
});

test("closing the tab mid-upgrade leaves a consistent revision; the next load completes the upgrade", { timeout: 120_000 }, async () => {
  await withProfile(async (context) => {
    const ok = await load(context);
    await ok.page.evaluate(() => window.demo.addNote({ title: "Before the long one", body: "", tags: "" }));
    await ok.page.close();

    const doomed = await context.newPage();
    await doomed.goto(new URL("?migrations=slow", site).href);
    await doomed.waitForFunction((rev) => document.body.dataset.step === `start ${rev}`, SLOW, { timeout: 30_000 });
    // Still running (it takes seconds), then the tab goes away: its worker dies mid-statement.
    assert.equal(await doomed.evaluate(() => document.body.dataset.state), "migrating");
    await doomed.close({ runBeforeUnload: false });

    // The same release as before the long migration: at its head, the long one rolled back.
    const back = await load(context);
    assert.deepEqual([back.state, back.current, back.stepsRun], ["ready", [HEAD], 0], JSON.stringify(back));
    assert.deepEqual(await sql(back.page, "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'search_word'"), [{ n: 0 }]);
    assert.deepEqual(await sql(back.page, "PRAGMA integrity_check"), [{ integrity_check: "ok" }]);

    const done = await load(context, "?migrations=slow", back.page);
    assert.deepEqual([done.state, done.current, done.stepsRun], ["ready", [SLOW], 1], JSON.stringify(done));
    assert.deepEqual(await sql(done.page, "SELECT count(*) AS n FROM search_word"), [{ n: 400000 }]);
    assert.deepEqual(upgrades(done.log), [...REVS, SLOW]);
    assert.deepEqual(done.notes.map((n) => n.title), ["Before the long one"]);
    assert.deepEqual(await sql(done.page, "PRAGMA integrity_check"), [{ integrity_check: "ok" }]);
  });
});

test("old code meeting a database ahead of it gets DATABASE_AHEAD, and the database is untouched", { timeout: 90_000 }, async () => {
  await withProfile(async (context) => {
    const current = await load(context);
    await current.page.evaluate(() => window.demo.addNote({ title: "new schema", body: "", tags: "" }));
    const old = await load(context, "?release=1", current.page);
    assert.equal(old.state, "error");
    assert.equal(old.error.code, "DATABASE_AHEAD");
    assert.equal(old.error.revision, HEAD);
    const again = await load(context, "", old.page);
    assert.deepEqual([again.state, again.current, again.stepsRun], ["ready", [HEAD], 0]);
    assert.deepEqual(again.notes.map((n) => n.title), ["new schema"]);
  });
});

test("without a secure context there is no OPFS: OPFS_UNAVAILABLE says so, and memory storage works", { timeout: 60_000 }, async () => {
  await withProfile(async (context) => {
    const page = await context.newPage();
    const insecure = site.replace("127.0.0.1", "insecure.test");
    await page.goto(insecure);
    await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state));
    const r = await shown(page);
    assert.equal(r.state, "error");
    assert.equal(r.error.code, "OPFS_UNAVAILABLE");
    assert.match(r.errorText, /secure context/);
    // The fallback is offered, never taken silently: the app asks, then runs in memory.
    await page.click("#use-memory");
    await page.waitForFunction(() => document.body.dataset.state === "ready");
    const memory = await shown(page);
    assert.deepEqual([memory.current, memory.stepsRun], [[HEAD], 6]);
  });
});

test("two tabs writing at once take turns on the database: every write lands, none fails", { timeout: 120_000 }, async () => {
  await withProfile(async (context) => {
    const [a, b] = await Promise.all([context.newPage(), context.newPage()]);
    await Promise.all([load(context, "", a), load(context, "", b)]);
    // Each tab adds 25 notes as fast as it can; the lease passes back and forth.
    const burst = (page, who) =>
      page.evaluate(async (who) => {
        const m = window.demo.migrator;
        for (let i = 0; i < 25; i++) {
          await m.query("INSERT INTO note (title, body) VALUES (?, ?)", [`${who} ${i}`, ""]);
          // A read of the other tab's latest writes, through the same lease.
          await m.query("SELECT count(*) AS n FROM note");
        }
        return (await m.query("SELECT count(*) AS n FROM note WHERE title LIKE ?", [`${who} %`]))[0].n;
      }, who);
    const [na, nb] = await Promise.all([burst(a, "a"), burst(b, "b")]);
    assert.deepEqual([na, nb], [25, 25]);
    assert.deepEqual(await sql(a, "SELECT count(*) AS n FROM note"), [{ n: 50 }]);
    assert.deepEqual(await sql(b, "PRAGMA integrity_check"), [{ integrity_check: "ok" }]);
  });
});
