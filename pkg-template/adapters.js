// Host adapters: athanor plans in the wasm, the host's own SQLite executes (the runner
// is runner.js, the same for all). Each adapter offers `query(sql, params) -> rows of the
// first column`, `exec(sql)` and `step(step) -> changes per write`, which runs one
// migration step as atomically as the host allows. Adapters over a synchronous
// connection also offer `begin/commit/rollback`, so a whole run is one transaction, as
// in the embedded engine.

import { MigrationError } from "./errors.js";

/** The host's error for a statement of a step, with the statement it failed on (hosts
 * that run statements one by one know it; the runner names its line). */
function failedAt(e, statement) {
  const err = e instanceof Error ? e : new Error(String(e));
  err.athanorStatement = statement;
  return err;
}

/** Runs a step's statements one by one through `exec`. */
function runStatements(step, exec) {
  for (const s of step.statements) {
    try {
      exec(s.code);
    } catch (e) {
      throw failedAt(e, s);
    }
  }
}

/** Cloudflare D1. No BEGIN/COMMIT: each step is one `batch()`, which D1 runs as a
 * transaction. A failure leaves the database at the last completed step. */
export function d1(db) {
  return {
    name: "d1",
    async query(sql, params = []) {
      const { results } = await db.prepare(sql).bind(...params).all();
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
      try {
        const results = await db.batch(stmts);
        return results.slice(step.statements.length).map((r) => r.meta?.changes ?? 1);
      } catch (e) {
        throw failedAt(e, await d1Failing(db, step.statements));
      }
    },
  };
}

/** Which statement failed a D1 batch (D1's error does not say, and users need its line):
 * bisect over prefixes of the step, each batch ended by a statement that fails on purpose
 * so D1 rolls the probe back whole. Runs only after a failure. `undefined`: the failure
 * was in a version-table write. */
async function d1Failing(db, statements) {
  const SENTINEL = "athanor_probe_rollback";
  let lo = 0;
  let hi = statements.length; // the first failing index is in [lo, hi]; hi: none of them
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const probe = statements.slice(0, mid + 1).map((s) => db.prepare(s.code));
    const passed = await db.batch([...probe, db.prepare(`SELECT ${SENTINEL}()`)]).then(
      () => false, // cannot happen (the sentinel always fails); treat as a failure here
      (e) => String(e?.message ?? e).includes(SENTINEL),
    );
    if (passed) lo = mid + 1;
    else hi = mid;
  }
  return statements[lo];
}

/** A Durable Object's SQL storage (`ctx.storage`): each step in `transactionSync`. */
export function durableObject(storage) {
  const sql = storage.sql;
  return {
    name: "durable-object",
    async query(q, params = []) {
      return [...sql.exec(q, ...params).raw()].map((r) => r[0]);
    },
    async exec(q) {
      sql.exec(q);
    },
    async step(step) {
      return storage.transactionSync(() => {
        runStatements(step, (q) => sql.exec(q));
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

/** An adapter over a synchronous connection, from three primitives: `values(sql,
 * params)` (first column of each row), `run(sql, params)` (changes) and `exec(sql)`
 * (a script). Inside a run's transaction (`begin`) a step adds no transaction of its
 * own; outside one, it is its own `BEGIN IMMEDIATE ... COMMIT`. */
function synchronous(name, { values, run, exec }) {
  let inRun = false;
  /** ROLLBACK; `true` if a transaction was open (SQLite refuses otherwise). */
  const rollback = () => {
    try {
      exec("ROLLBACK");
      return true;
    } catch {
      // SQLite may have rolled back already (some errors end the transaction).
      return false;
    }
  };
  /** As the embedded engine: a section that opts out of the run's transaction (a table
   * rebuild with foreign keys off) leaves no transaction open and the connection's
   * foreign-key setting as it found it, whether it succeeds or fails. */
  const outsideTransaction = (step) => {
    const fk = Number(values("PRAGMA foreign_keys", [])[0]) ? "ON" : "OFF";
    let failure = null;
    try {
      runStatements(step, exec);
    } catch (e) {
      failure = e;
    }
    const leftOpen = rollback();
    exec(`PRAGMA foreign_keys = ${fk}`);
    if (failure) throw failure;
    if (leftOpen) {
      throw new MigrationError(`the transaction:false section of ${step.revision} left a transaction open; it was rolled back`, "VERSION_TABLE", { revision: step.revision });
    }
  };
  return {
    name,
    async query(sql, params = []) {
      return values(sql, params);
    },
    async exec(sql) {
      exec(sql);
    },
    async begin() {
      exec("BEGIN IMMEDIATE");
      inRun = true;
    },
    async commit() {
      exec("COMMIT");
      inRun = false;
    },
    async rollback() {
      inRun = false;
      rollback();
    },
    /** As the embedded engine: keeps the file locked between transactions (EXCLUSIVE
     * locking mode: locks outlive COMMIT) from a transaction:false step's check to its
     * version row. Not in WAL mode, where that needs the file alone and the app's own
     * connection is usually open; `false` when nothing was taken. */
    async holdLock() {
      const mode = String(values("PRAGMA main.locking_mode", [])[0]).toLowerCase();
      const journal = String(values("PRAGMA main.journal_mode", [])[0]).toLowerCase();
      if (mode === "exclusive" || journal === "wal" || journal === "memory") return false;
      exec("PRAGMA main.locking_mode = EXCLUSIVE");
      return true;
    },
    /** Gives the lock back: NORMAL mode, then an access (NORMAL alone keeps the locks
     * until the file is next read). */
    async releaseLock() {
      exec("PRAGMA main.locking_mode = NORMAL");
      values("SELECT count(*) FROM sqlite_master", []);
    },
    async step(step) {
      // A `transaction:false` section runs in autocommit (the runner has committed);
      // only its writes then get a transaction.
      const own = !inRun;
      const outside = own && step.transactional === false;
      if (outside) outsideTransaction(step);
      else if (own) exec("BEGIN IMMEDIATE");
      try {
        if (!outside) runStatements(step, exec);
        if (outside) exec("BEGIN IMMEDIATE");
        const changes = step.writes.map((w) => run(w.sql, w.params));
        if (own) exec("COMMIT");
        return changes;
      } catch (e) {
        if (own) rollback();
        throw e;
      }
    },
  };
}

/** `@sqlite.org/sqlite-wasm`'s `oo1.DB` (or anything with its exec/selectValues/changes). */
export function sqliteWasm(db) {
  return synchronous("sqlite-wasm", {
    values: (sql, bind) => db.selectValues(sql, bind.length ? bind : undefined),
    run: (sql, bind) => {
      db.exec({ sql, bind });
      return db.changes();
    },
    exec: (sql) => db.exec(sql),
  });
}

/** A better-sqlite3 `Database`. */
export function betterSqlite3(db) {
  return synchronous("better-sqlite3", {
    values: (sql, params) => {
      const st = db.prepare(sql);
      // pluck() needs a statement that returns data; PRAGMA assignments do not.
      return st.reader ? st.pluck().all(...params) : (st.run(...params), []);
    },
    run: (sql, params) => db.prepare(sql).run(...params).changes,
    exec: (sql) => db.exec(sql),
  });
}

/** A `node:sqlite` `DatabaseSync` (Node 22.5+, Deno, Bun), or Bun's `bun:sqlite` `Database`. */
export function nodeSqlite(db) {
  return synchronous("node:sqlite", {
    values: (sql, params) => db.prepare(sql).all(...params).map((r) => Object.values(r)[0]),
    run: (sql, params) => Number(db.prepare(sql).run(...params).changes),
    exec: (sql) => db.exec(sql),
  });
}
