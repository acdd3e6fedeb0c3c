// Host adapters: athanor plans in the wasm, the host's own SQLite executes. Each
// adapter offers `query(sql) -> rows of the first column`, `exec(sql)` and
// `step(step) -> changes per write` that runs one migration step as atomically as the
// host allows. The runner below is the same for all of them.
import { MigrationError } from "./errors.js";

/** Cloudflare D1. No BEGIN/COMMIT: each step is one `batch()`, which D1 runs as a
 * transaction. A failure leaves the database at the last completed step. */
export function d1(db) {
  return {
    name: "d1",
    async query(sql) {
      const { results } = await db.prepare(sql).all();
      return results.map((r) => Object.values(r)[0]);
    },
    async exec(sql) {
      await db.prepare(sql).run();
    },
    async step(step) {
      const stmts = [
        ...step.statements.map((s) => db.prepare(s.code)),
        ...step.writes.map((w) => db.prepare(w.sql).bind(...w.params)),
      ];
      if (stmts.length === 0) return [];
      const results = await db.batch(stmts);
      return results.slice(step.statements.length).map((r) => r.meta?.changes ?? 1);
    },
  };
}

/** A Durable Object's SQL storage (`ctx.storage`): each step in `transactionSync`. */
export function durableObject(storage) {
  const sql = storage.sql;
  return {
    name: "durable-object",
    async query(q) {
      return [...sql.exec(q).raw()].map((r) => r[0]);
    },
    async exec(q) {
      sql.exec(q);
    },
    async step(step) {
      return storage.transactionSync(() => {
        for (const s of step.statements) sql.exec(s.code);
        // Not cursor.rowsWritten: workerd counts index writes in it (an INSERT into
        // the version table, which has a primary key, reports 2).
        return step.writes.map((w) => {
          sql.exec(w.sql, ...w.params);
          return sql.exec("SELECT changes()").raw().next().value[0];
        });
      });
    },
  };
}

/** `@sqlite.org/sqlite-wasm`'s `oo1.DB` (or anything with its exec/selectValues/changes). */
export function sqliteWasm(db) {
  return {
    name: "sqlite-wasm",
    async query(q) {
      return db.selectValues(q);
    },
    async exec(q) {
      db.exec(q);
    },
    async step(step) {
      const changes = [];
      db.exec("BEGIN IMMEDIATE");
      try {
        for (const s of step.statements) db.exec(s.code);
        for (const w of step.writes) {
          db.exec({ sql: w.sql, bind: w.params });
          changes.push(db.changes());
        }
        db.exec("COMMIT");
      } catch (e) {
        db.exec("ROLLBACK");
        throw e;
      }
      return changes;
    },
  };
}

const message = (e) => (e && typeof e === "object" && "message" in e ? String(e.message) : String(e));

/** The version table's rows through `adapter`; none when it does not exist yet. */
export async function readRows(planner, adapter) {
  try {
    return (await adapter.query(planner.readRowsSql())).map(String);
  } catch (e) {
    if (/no such table/i.test(message(e))) return [];
    throw new MigrationError(`cannot read the version table: ${message(e)}`, "SQLITE_ERROR");
  }
}

/** Runs an upgrade or downgrade through `adapter`. Each step is checked against the
 * version table before it runs; if another migrator moved it, the rest is planned again. */
export async function runOnAdapter(planner, adapter, direction, target, onProgress) {
  let rows = await readRows(planner, adapter);
  let steps = planner.plan(direction, target, rows).steps;
  const before = rows;
  const done = [];
  let set = false;
  while (steps.length) {
    const step = steps.shift();
    if (!set) {
      for (const ddl of planner.setupSql()) await adapter.exec(ddl);
      set = true;
    }
    onProgress?.({ ...step, index: done.length, total: done.length + steps.length + 1, phase: "start" });
    let changes;
    try {
      changes = await adapter.step(step);
    } catch (e) {
      const failing = step.statements.find((s) => message(e).includes(s.code)) ?? null;
      throw new MigrationError(
        `Migration ${step.revision} failed (${adapter.name}): ${message(e)}`,
        "MIGRATION_FAILED",
        { revision: step.revision, file: step.file, statement: failing?.code, line: failing?.line, sqliteMessage: message(e) },
      );
    }
    const wrong = changes.slice(0, step.versionChanges).findIndex((c) => c !== 1);
    if (wrong >= 0) {
      throw new MigrationError(`version table write ${step.writes[wrong].sql} touched ${changes[wrong]} rows, expected 1`, "VERSION_TABLE");
    }
    onProgress?.({ ...step, index: done.length, total: done.length + steps.length + 1, phase: "done" });
    done.push(step);
    rows = await readRows(planner, adapter);
    if (rows.join() !== step.rowsAfter.join() && steps.length) {
      // Another migrator moved the version table meanwhile: plan the rest again.
      steps = planner.plan(direction, target, rows).steps;
    }
  }
  return { steps: done, before, after: rows, warnings: [] };
}
