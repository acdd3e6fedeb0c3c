// The demo app: an offline-first notes page whose SQLite lives in OPFS and is upgraded to
// the schema this build expects on every load — the way an app author uses athanor.
import { openMigrator } from "athanor";

const moduleStart = performance.now();

// The migrations, bundled at build time as raw text (Vite's import.meta.glob).
const released = import.meta.glob("./migrations/*.sql", { query: "?raw", import: "default", eager: true });
// Test hooks: ?release=1 is the app's first release (the first four revisions);
// ?migrations=broken|fixed|slow adds one more revision from test-migrations/.
const extra = import.meta.glob("./test-migrations/*.sql", { query: "?raw", import: "default", eager: true });
const RELEASE_1 = ["0a1b2c3d4e5f", "1b2c3d4e5f60", "2c3d4e5f6071", "3d4e5f607182"];

function selectMigrations(params) {
  let set = Object.entries(released);
  if (params.get("release") === "1") set = set.filter(([path]) => RELEASE_1.some((rev) => path.includes(`/${rev}_`)));
  const variant = params.get("migrations");
  if (variant) set = set.concat(Object.entries(extra).filter(([path]) => path.includes(`/${variant}_`)));
  return Object.fromEntries(set);
}

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const migrations = selectMigrations(params);
const demo = (window.demo = { moduleStart, steps: [], error: null });

function setState(state, text) {
  document.body.dataset.state = state;
  $("state").textContent = text;
}

function onProgress(e) {
  // Step n of m, what it is, and when it is done: what a page shows while it migrates.
  const n = e.index + 1;
  $("progress").max = e.total;
  $("progress").value = e.phase === "done" ? n : e.index;
  $("step").textContent = `${e.phase === "start" ? "Running" : "Done"} step ${n} of ${e.total}: ${e.direction} ${e.revision ?? ""} — ${e.message ?? ""}`;
  demo.steps.push(`${e.phase} ${e.direction} ${e.revision}`);
  document.body.dataset.step = `${e.phase} ${e.revision}`;
}

function showError(e) {
  demo.error = { code: e.code, message: e.message, revision: e.data?.revision ?? null };
  const where = e.data?.revision ? ` in revision ${e.data.revision}` : "";
  $("error").hidden = false;
  $("error").textContent = `${e.code ?? "ERROR"}${where}: ${e.message}`;
  setState("error", "migration failed");
}

const cell = (text) => {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
};

async function render(m) {
  const [current, heads, history] = await Promise.all([m.current(), m.heads(), m.history()]);
  demo.current = current;
  $("current").textContent = current.join(", ") || "(empty database)";
  $("head").textContent = heads.join(", ");
  document.body.dataset.current = current.join(",");

  $("history").tBodies[0].replaceChildren(
    ...history.map((h) => {
      const tr = document.createElement("tr");
      if (current.includes(h.revision)) tr.className = "current";
      tr.append(cell(current.includes(h.revision) ? "▶" : ""), cell(h.revision), cell(h.message));
      return tr;
    }),
  );

  // The app reads through the same migrator; what it can read depends on the schema.
  const tables = new Set((await m.query("SELECT name FROM sqlite_schema WHERE type = 'table'")).map((r) => r.name));
  const log = tables.has("migration_log") ? await m.query("SELECT id, revision, direction, at FROM migration_log ORDER BY id") : [];
  demo.log = log;
  $("log").tBodies[0].replaceChildren(
    ...log.map((r) => {
      const tr = document.createElement("tr");
      tr.append(cell(r.id), cell(r.revision), cell(r.direction), cell(r.at.slice(11, 19)));
      return tr;
    }),
  );

  demo.notes = tables.has("note") ? await readNotes(m, tables) : [];
  $("notes").replaceChildren(
    ...demo.notes.map((n) => {
      const li = document.createElement("li");
      const title = document.createElement("strong");
      title.textContent = n.title ?? "(untitled)";
      const body = document.createElement("div");
      body.textContent = n.body;
      const tags = document.createElement("div");
      tags.className = "tags";
      for (const t of n.tags) tags.append(Object.assign(document.createElement("span"), { textContent: t }));
      li.append(title, body, tags);
      return li;
    }),
  );
  document.querySelector("#new-note button").disabled = !tables.has("note");
}

async function columns(m, table) {
  return new Set((await m.query("SELECT name FROM pragma_table_info(?)", [table])).map((r) => r.name));
}

async function readNotes(m, tables) {
  const cols = await columns(m, "note");
  const notes = await m.query(`SELECT id, title, body, ${cols.has("tags") ? "tags" : "''"} AS tags FROM note ORDER BY id`);
  const joined = tables.has("note_tag")
    ? await m.query("SELECT nt.note_id, t.name FROM note_tag nt JOIN tag t ON t.id = nt.tag_id ORDER BY t.name")
    : [];
  return notes.map((n) => ({
    id: n.id,
    title: n.title,
    body: n.body,
    tags: [...n.tags.split(",").map((t) => t.trim()).filter(Boolean), ...joined.filter((j) => j.note_id === n.id).map((j) => j.name)],
  }));
}

async function addNote(m, { title, body, tags }) {
  const tables = new Set((await m.query("SELECT name FROM sqlite_schema WHERE type = 'table'")).map((r) => r.name));
  const cols = await columns(m, "note");
  if (cols.has("tags")) {
    await m.query("INSERT INTO note (title, body, tags) VALUES (?, ?, ?)", [title, body, tags]);
    return;
  }
  const [{ id }] = await m.query("INSERT INTO note (title, body) VALUES (?, ?) RETURNING id", [title || body.slice(0, 40) || "Untitled", body]);
  if (!tables.has("note_tag")) return;
  for (const tag of tags.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean)) {
    await m.query("INSERT OR IGNORE INTO tag (name) VALUES (?)", [tag]);
    await m.query("INSERT OR IGNORE INTO note_tag (note_id, tag_id) SELECT ?, id FROM tag WHERE name = ?", [id, tag]);
  }
}

async function migrate(m, direction, target) {
  setState("migrating", direction === "upgrade" ? "upgrading…" : "downgrading…");
  $("error").hidden = true;
  const report = await m[direction](target);
  demo.report = report;
  demo.stepsRun = (demo.stepsRun ?? 0) + report.steps.length;
  await render(m);
  setState("ready", report.steps.length ? `${direction}d ${report.steps.length} step(s)` : "already at head");
}

async function main(storage = "opfs") {
  const m = await openMigrator({ database: "notes.db", storage, migrations, onProgress });
  demo.migrator = m;
  demo.addNote = (note) => addNote(m, note).then(() => render(m));
  setState("migrating", "upgrading…");
  const report = await m.upgrade("head");
  demo.ready = performance.now();
  demo.report = report;
  demo.stepsRun = report.steps.length;
  await render(m);
  setState("ready", report.steps.length ? `upgraded ${report.steps.length} step(s)` : "already at head");

  for (const [id, direction, target] of [["downgrade", "downgrade", "-1"], ["upgrade", "upgrade", "head"]]) {
    $(id).disabled = false;
    $(id).onclick = () => migrate(m, direction, target).catch(showError);
  }
  $("new-note").onsubmit = (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    demo
      .addNote({ title: form.get("title"), body: form.get("body"), tags: form.get("tags") })
      .then(() => event.target.reset())
      .catch(showError);
  };
}

main().catch((e) => {
  showError(e);
  // No OPFS here (an old browser, or not a secure context): say so, and let the person
  // choose a database that lasts only as long as the tab.
  if (e.code !== "OPFS_UNAVAILABLE") return;
  const button = Object.assign(document.createElement("button"), { id: "use-memory", type: "button", textContent: "Continue with a temporary in-memory database" });
  button.onclick = () => {
    button.remove();
    $("error").hidden = true;
    $("database").textContent = "notes.db (in memory, not saved)";
    main("memory").catch(showError);
  };
  $("error").after(button);
});
