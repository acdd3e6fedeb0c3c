// Runs on a host's SQLite through its adapter (adapters.js). The run itself (plan,
// locks, checks, version and history writes) is the wasm's, written once in the core:
// over a synchronous connection the wasm calls the adapter's primitives (`runOn`);
// hosts that answer asynchronously (D1, libSQL) get the run as batches (`batch`), each
// one transaction that starts with a guard, and this file only sends them.
import { MigrationError, toMigrationError } from "./errors.js";

const message = (e) => (e && typeof e === "object" && "message" in e ? String(e.message) : String(e));
/** Whether a host's error is another connection's lock (SQLite's busy and locked). */
const busy = (text) => /SQLITE_BUSY|SQLITE_LOCKED|database (table )?is locked/i.test(text);

/** Rows of a query of athanor's tables (first column); `null` when the table does not
 * exist yet. */
async function readTable(adapter, sql, params, what) {
  try {
    return (await adapter.query(sql, params)).map(String);
  } catch (e) {
    if (/no such table/i.test(message(e))) return null;
    throw new MigrationError(`cannot read the ${what}: ${message(e)}`, busy(message(e)) ? "LOCKED" : "SQLITE_ERROR");
  }
}

/** The version table's rows through `adapter` (`sql` from the wasm's versionRowsSql). */
export async function readRowsWith(sql, adapter) {
  return (await readTable(adapter, sql, [], "version table")) ?? [];
}

/** A run of `kind` ("upgrade" | "downgrade" | "stamp") to `targets` through `adapter`;
 * resolves to the report. */
export async function runOnAdapter(planner, adapter, kind, targets, { onProgress, perMigration = false, purge = false } = {}) {
  try {
    if (adapter.connection) {
      const run = () => planner.runOn(adapter.connection, kind, targets, { perMigration, purge, hostTransaction: Boolean(adapter.transaction) }, onProgress ?? null);
      return adapter.transaction ? adapter.transaction(run) : run();
    }
    return await runBatched(planner, adapter, kind, targets, { onProgress, perMigration, purge });
  } catch (e) {
    throw toMigrationError(e);
  }
}

/** How often a run plans again after its guard found that another migrator moved the
 * version table (each time, that one has finished a batch of its own). */
const RACES = 20;

/** The run as batches: each part is sent as one batch, which the host runs as one
 * transaction. When a part fails and the version table is no longer what it was planned
 * from, another migrator got there first: plan again from what it left. Otherwise a
 * statement failed: the parts before it stay applied (all of the run, with one part),
 * and the error names the statement. Past the adapter's `maxBatch` statements, a batch
 * per migration, and the report says so.
 *
 * The report is this call's: `steps` what its own batches applied, `before` the rows
 * its first applied batch was planned from (when another migrator did all the work,
 * the rows it left, as the embedded engine reports a run that found nothing to do
 * under its lock), `after` the rows its last plan ends at, `replans` how often it
 * planned again. */
async function runBatched(planner, adapter, kind, targets, { onProgress, perMigration, purge }) {
  const done = [];
  let before = null;
  let warnings = [];
  let fellBack = false;
  for (let attempt = 0; ; attempt++) {
    const rows = await readTable(adapter, planner.readRowsSql(), [], "version table");
    const recorded = await readTable(adapter, planner.checksumsSql(), planner.checksumsParams(), "history table");
    let run = planner.batch(kind, targets, rows, recorded, { perMigration: perMigration || fellBack, purge });
    if (!perMigration && !fellBack && adapter.maxBatch && run.parts.some((p) => p.statements.length > adapter.maxBatch)) {
      fellBack = true;
      run = planner.batch(kind, targets, rows, recorded, { perMigration: true, purge });
    }
    // Until a batch of ours commits, the run starts from what this plan was made from.
    if (!done.length) before = rows ?? [];
    warnings = run.warnings;
    // Numbered on from what this call already applied, as the embedded engine's
    // re-plans number them (`total`: applied so far + this plan's steps).
    const total = done.length + run.steps.length;
    let raced = false;
    for (const [k, part] of run.parts.entries()) {
      const steps = part.steps.map((i) => run.steps[i]);
      const index = done.length;
      for (const [j, s] of steps.entries()) onProgress?.({ ...s, index: index + j, total, phase: "start" });
      const started = Date.now();
      try {
        await adapter.batch(part.statements);
      } catch (e) {
        const now = await readTable(adapter, planner.readRowsSql(), [], "version table");
        // The first part's guard checks the rows as read (`null`: no table yet).
        const planned = k === 0 ? rows : part.rows;
        if (!sameRows(now, planned)) {
          if (attempt >= RACES) throw new MigrationError(`the version table kept moving under ${RACES} runs of other migrators`, "LOCKED");
          raced = true;
          break;
        }
        // Another connection's write lock (libSQL without a `timeout`): nothing of the
        // batch was written, and bisecting would only meet the lock again.
        if (busy(message(e))) throw new MigrationError(`${adapter.name}: the database is locked by another connection: ${message(e)}`, "LOCKED");
        throw await statementFailure(adapter, part.statements, e);
      }
      const ms = (Date.now() - started) / Math.max(steps.length, 1);
      for (const [j, s] of steps.entries()) {
        const step = { ...s, index: index + j, total, ms };
        onProgress?.({ ...step, phase: "done" });
        done.push(step);
      }
    }
    if (raced) continue;
    const after = run.parts.length ? run.after : (rows ?? []);
    if (fellBack) {
      warnings = [...warnings, `the run was sent as one batch per migration: as one batch it would pass ${adapter.maxBatch} statements, ${adapter.name}'s limit for one batch; a failure leaves the migrations before it applied`];
    }
    return { steps: done.map((s) => ({ ...s, total: done.length })), before, after, warnings, batches: fellBack || perMigration ? "per-migration" : "one", replans: attempt };
  }
}

/** Rows as read; `null` (no table) equals only `null`. */
function sameRows(now, planned) {
  if (now === null || planned === null) return now === planned;
  return now.length === planned.length && now.every((r, i) => r === planned[i]);
}

/** The failing statement of a batch that failed (the host's error does not say which):
 * bisect over prefixes, each probe ended by a statement that always fails, so the host
 * rolls the probe back whole. Runs only after a failure. */
async function statementFailure(adapter, statements, error) {
  const SENTINEL = "athanor_probe_rollback";
  // libSQL names the failing statement (LibsqlBatchError.statementIndex): no probes.
  const named = Number.isInteger(error?.statementIndex) && error.statementIndex < statements.length;
  let lo = named ? error.statementIndex : 0;
  let hi = named ? lo : statements.length; // the first failing index is in [lo, hi]; hi: none of them
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const probe = [...statements.slice(0, mid + 1), { sql: `SELECT ${SENTINEL}()`, params: [] }];
    const passed = await adapter.batch(probe).then(
      () => false,
      (e) => message(e).includes(SENTINEL),
    );
    if (passed) lo = mid + 1;
    else hi = mid;
  }
  const s = statements[lo];
  // libSQL's own message repeats its code ("SQLITE_ERROR: SQLITE_ERROR: no such
  // table: x"); its cause holds SQLite's message alone.
  const what = error?.statementIndex !== undefined && error?.cause?.message ? String(error.cause.message) : message(error);
  const sqliteCode = typeof error?.rawCode === "number" ? error.rawCode : undefined;
  if (!s?.revision) {
    return new MigrationError(`${adapter.name}: athanor's version-table write failed: ${what}`, busy(what) ? "LOCKED" : "VERSION_TABLE");
  }
  return new MigrationError(`Migration ${s.revision} failed (${adapter.name}): ${what}`, "MIGRATION_FAILED", {
    revision: s.revision,
    file: s.file,
    line: s.line,
    statement: s.statement,
    sqliteMessage: what,
    ...(sqliteCode === undefined ? {} : { sqliteCode }),
  });
}
