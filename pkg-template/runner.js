// Runs the wasm Planner's plans through a host adapter (adapters.js): the same checks
// and bookkeeping as the embedded engine (src/sqlite/runner.rs) on whatever SQLite the
// host gives. The Planner decides (plans, checksums); this file only moves rows.
import { MigrationError } from "./errors.js";

const message = (e) => (e && typeof e === "object" && "message" in e ? String(e.message) : String(e));
/** SQLite's extended result code, where the host's error carries one: node:sqlite's
 * `errcode`, sqlite-wasm's `resultCode` (better-sqlite3 and D1 give only names or text). */
const sqliteCode = (e) => [e?.errcode, e?.resultCode].find((c) => Number.isInteger(c));

/** Rows of a query of athanor's tables; none when the table does not exist yet. */
async function readOwn(adapter, sql, params, what) {
  try {
    return (await adapter.query(sql, params)).map(String);
  } catch (e) {
    if (/no such table/i.test(message(e))) return [];
    throw new MigrationError(`cannot read the ${what}: ${message(e)}`, "SQLITE_ERROR");
  }
}

/** The version table's rows through `adapter` (`sql` from the wasm's versionRowsSql). */
export function readRowsWith(sql, adapter) {
  return readOwn(adapter, sql, [], "version table");
}

/** The version table's rows through `adapter`. */
export function readRows(planner, adapter) {
  return readRowsWith(planner.readRowsSql(), adapter);
}

/** The recorded checksums (`revision checksum`), as the Planner takes them. */
function readChecksums(planner, adapter) {
  return readOwn(adapter, planner.checksumsSql(), planner.checksumsParams(), "history table");
}

/** Runs one planned step; a failure names the revision and, when the host's message
 * quotes it, the statement. */
async function runStep(adapter, step) {
  let changes;
  try {
    changes = await adapter.step(step);
  } catch (e) {
    if (e instanceof MigrationError) throw e;
    const failing = e?.athanorStatement ?? step.statements.find((s) => message(e).includes(s.code)) ?? null;
    throw new MigrationError(
      `Migration ${step.revision ?? "(stamp)"} failed (${adapter.name}): ${message(e)}`,
      "MIGRATION_FAILED",
      { revision: step.revision, file: step.file, statement: failing?.code, line: failing?.line, sqliteMessage: message(e), sqliteCode: sqliteCode(e) },
    );
  }
  const wrong = step.writes.findIndex((w, i) => w.expectOne && changes[i] !== 1);
  if (wrong >= 0) {
    throw new MigrationError(`version table write ${step.writes[wrong].sql} touched ${changes[wrong]} rows, expected 1`, "VERSION_TABLE");
  }
}

/** The whole run in one transaction when the adapter can (`begin`) and the caller did
 * not ask for one per migration; otherwise each step is its own. */
function transaction(adapter, perMigration) {
  const whole = !perMigration && typeof adapter.begin === "function";
  let open = false;
  return {
    whole,
    async begin() {
      if (whole && !open) {
        await adapter.begin();
        open = true;
      }
    },
    async commit() {
      if (open) {
        open = false;
        await adapter.commit();
      }
    },
    async rollback() {
      if (open) {
        open = false;
        await adapter.rollback();
      }
    },
  };
}

/** Runs an upgrade or downgrade through `adapter`. As in the embedded engine: a first
 * look takes no lock (nothing to do: nothing written, nothing hashed); then, under the
 * run's lock where there is one, the rows are read again, applied revisions' checksums
 * verified, and each step checked against the version table before the next; if
 * another migrator moved it, what that one applied is verified too and the rest planned
 * again. Each step's writes prune the history as the embedded engine does. `rows`: the
 * first look's rows, when the caller has just read them. */
export async function runOnAdapter(planner, adapter, direction, target, { onProgress, perMigration = false, rows: first } = {}) {
  const before = first ?? (await readRows(planner, adapter));
  let plan = planner.plan(direction, target, before, []);
  if (plan.steps.length === 0) return { steps: [], before, after: before, warnings: plan.warnings };
  /** The plan from `rows` with the history as recorded now, once its checksums pass. */
  const planFrom = async (rows) => {
    const recorded = await readChecksums(planner, adapter);
    const again = planner.plan(direction, target, rows, recorded);
    planner.verify(rows, recorded);
    return again;
  };
  const tx = transaction(adapter, perMigration);
  const done = [];
  try {
    await tx.begin();
    let rows = await readRows(planner, adapter);
    plan = await planFrom(rows);
    for (const ddl of planner.setupSql()) await adapter.exec(ddl);
    let steps = plan.steps;
    while (steps.length) {
      const step = steps.shift();
      const total = done.length + steps.length + 1;
      // Checked under the run's transaction; where the adapter can, the file stays locked
      // from there to a transaction:false step's version row, so no other migrator runs
      // the section too (as the embedded engine).
      const held = !step.transactional && tx.whole && (await adapter.holdLock?.());
      let ok = false;
      try {
        if (!step.transactional) await tx.commit();
        onProgress?.({ ...step, index: done.length, total, phase: "start" });
        await runStep(adapter, step);
        onProgress?.({ ...step, index: done.length, total, phase: "done" });
        done.push(step);
        ok = true;
      } finally {
        // A failure to give it back is reported unless the step's own error is.
        if (held) await adapter.releaseLock().catch((e) => { if (ok) throw e; });
      }
      await tx.begin();
      rows = await readRows(planner, adapter);
      if (rows.join() !== step.rowsAfter.join() && steps.length) {
        // Another migrator moved the version table meanwhile: check what it applied, as
        // at the start, and plan the rest again.
        steps = (await planFrom(rows)).steps;
      }
    }
    await tx.commit();
    return { steps: done, before, after: rows, warnings: plan.warnings };
  } catch (e) {
    await tx.rollback();
    throw e;
  }
}

/** `stamp targets [--purge]` through `adapter`: one step of version-table and history
 * writes, run atomically; no migration runs and no checksum is verified (stamp is how
 * an edited migration is accepted). */
export async function stampOnAdapter(planner, adapter, targets, purge) {
  const tx = transaction(adapter, false);
  try {
    await tx.begin();
    const rows = await readRows(planner, adapter);
    const plan = planner.stamp(targets, purge, rows, await readChecksums(planner, adapter));
    if (plan.steps.length) {
      for (const ddl of planner.setupSql()) await adapter.exec(ddl);
      await runStep(adapter, plan.steps[0]);
    }
    await tx.commit();
    return { steps: plan.steps, before: plan.before, after: plan.after, warnings: plan.warnings };
  } catch (e) {
    await tx.rollback();
    throw e;
  }
}
