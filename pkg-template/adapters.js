// Host adapters: the host's own SQLite executes, the wasm runs the run (runner.js).
// An adapter over a synchronous connection hands the wasm four primitives
// (`connection`: values, run, exec, inTransaction); one over a host that answers
// asynchronously sends batches, each run by the host as one transaction (`batch`).
// Every adapter also answers `query(sql, params)` (first column of each row), for the
// reads that need no run.

/** An adapter over a synchronous connection, from its primitives: `values(sql,
 * params)` (first column of each row), `run(sql, params)` (rows changed), `exec(sql)`
 * (one statement, rows read and dropped) and `inTransaction()` (`undefined` when the
 * driver cannot tell). `transaction(fn)`: the host runs the whole run inside a
 * transaction of its own. */
function synchronous(name, connection, transaction) {
  return {
    name,
    connection,
    transaction,
    async query(sql, params = []) {
      return connection.values(sql, params);
    },
  };
}

/** Cloudflare D1's statements per `batch()` before athanor sends a run as one batch
 * per migration (D1 answers one batch within its 30 s query limit; see the README). */
export const D1_MAX_BATCH = 1000;

/** Cloudflare D1. No BEGIN/COMMIT; each `batch()` is one transaction: a whole run is one
 * batch, so a failure leaves the database as it was. */
export function d1(db, { maxBatch = D1_MAX_BATCH } = {}) {
  return {
    name: "d1",
    maxBatch,
    async query(sql, params = []) {
      return (await db.prepare(sql).bind(...params).raw()).map((r) => r[0]);
    },
    async batch(statements) {
      await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
    },
  };
}

/** A libSQL / Turso client (`@libsql/client`: `file:` URLs, embedded replicas,
 * `libsql://` servers). Each batch is one `batch(..., "write")`: `BEGIN IMMEDIATE` on
 * one connection of the client's pool, so the run needs no connection state of its
 * own (PRAGMAs set through the client do not stick: each call may take another of its
 * connections). Without the client's `timeout`, a write lock held elsewhere fails the
 * run at once, as `LOCKED`, having written nothing. */
export function libsql(client, { maxBatch } = {}) {
  return {
    name: "libsql",
    maxBatch,
    async query(sql, params = []) {
      return (await client.execute({ sql, args: params })).rows.map((r) => r[0]);
    },
    async batch(statements) {
      await client.batch(
        statements.map((s) => ({ sql: s.sql, args: s.params })),
        "write",
      );
    },
  };
}

/** A Durable Object's SQL storage (`ctx.storage`): the whole run in one
 * `transactionSync`, so a failure leaves the database as it was. */
export function durableObject(storage) {
  const sql = storage.sql;
  return synchronous(
    "durable-object",
    {
      values: (q, params) => [...sql.exec(q, ...params).raw()].map((r) => r[0]),
      run: (q, params) => {
        sql.exec(q, ...params);
        // Not cursor.rowsWritten: workerd counts index writes in it (an INSERT into
        // the version table, which has a primary key, reports 2).
        return sql.exec("SELECT changes()").raw().next().value[0];
      },
      exec: (q) => {
        sql.exec(q);
      },
      inTransaction: () => undefined,
    },
    (run) => storage.transactionSync(run),
  );
}

/** `@sqlite.org/sqlite-wasm`'s `oo1.DB` (or anything with its exec/selectValues/changes). */
export function sqliteWasm(db) {
  const capi = db.constructor?.sqlite3?.capi ?? globalThis.sqlite3?.capi;
  return synchronous("sqlite-wasm", {
    values: (sql, bind) => db.selectValues(sql, bind.length ? bind : undefined),
    run: (sql, bind) => {
      db.exec({ sql, bind: bind.length ? bind : undefined });
      return db.changes();
    },
    exec: (sql) => {
      db.exec(sql);
    },
    inTransaction: () => (capi && db.pointer ? capi.sqlite3_get_autocommit(db.pointer) === 0 : undefined),
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
    exec: (sql) => {
      db.exec(sql);
    },
    inTransaction: () => db.inTransaction,
  });
}

/** A `node:sqlite` `DatabaseSync` (Node 22.5+, Deno), or Bun's `bun:sqlite` `Database`. */
export function nodeSqlite(db) {
  return synchronous("node:sqlite", {
    values: (sql, params) => db.prepare(sql).all(...params).map((r) => (Array.isArray(r) ? r[0] : Object.values(r)[0])),
    run: (sql, params) => Number(db.prepare(sql).run(...params).changes),
    exec: (sql) => {
      db.exec(sql);
    },
    // node:sqlite's isTransaction (Node 22.16+), bun:sqlite's inTransaction.
    inTransaction: () => db.isTransaction ?? db.inTransaction,
  });
}
