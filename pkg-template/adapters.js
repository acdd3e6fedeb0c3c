// Host adapters: the host's own SQLite executes, the wasm runs the run (runner.js).
// An adapter over a synchronous connection hands the wasm four primitives
// (`connection`: values, run, exec, inTransaction); one over a host that answers
// asynchronously sends batches, each run by the host as one transaction (`batch`).
// Every adapter also answers `query(sql, params)` (first column of each row), for the
// reads that need no run.

import { MigrationError } from "./errors.js";

/** An adapter over a synchronous connection, from its primitives: `values(sql,
 * params)` (first column of each row), `run(sql, params)` (rows changed), `exec(sql)`
 * (one statement, rows read and dropped) and `inTransaction()` (`undefined` when the
 * driver cannot tell). `transaction(fn)`: the host runs the whole run inside a
 * transaction of its own. `app`: the migrator's query/exec on the same connection. */
function synchronous(name, connection, transaction, app) {
  // A section's statements from the wasm in one crossing, NUL-separated (a migration
  // holds no NUL): run in order; a throw says which (`{ at, error }`); with `keepOpen`,
  // the index of one after which no transaction is open; -1 when all ran. Through
  // `this`, so a copy of the connection with its own `exec` runs those.
  connection.execEach = function (joined, keepOpen) {
    const statements = joined.split("\0");
    for (let at = 0; at < statements.length; at++) {
      try {
        this.exec(statements[at]);
      } catch (error) {
        throw { at, error };
      }
      if (keepOpen && this.inTransaction() === false) return at;
    }
    return -1;
  };
  return {
    name,
    connection,
    transaction,
    app,
    async query(sql, params = []) {
      return connection.values(sql, params);
    },
  };
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A parameter as the embedded engine binds it: whole numbers as integers (node:sqlite
 * binds every number as REAL unless it is a BigInt), booleans as 1/0. */
function bindable(v, i, bigInts) {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "number") return bigInts && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === "bigint" && (v > 2n ** 63n - 1n || v < -(2n ** 63n))) {
    throw new MigrationError(`parameter ${i + 1}: BigInt ${v} does not fit SQLite's 64-bit integer`, "USAGE");
  }
  if (typeof v === "string" || typeof v === "bigint" || v instanceof Uint8Array) return v;
  throw new MigrationError(`parameter ${i + 1}: only null, booleans, numbers, BigInts, strings and Uint8Arrays bind to SQLite`, "USAGE");
}

/** A row as the embedded engine gives it: a plain object; integers as numbers unless
 * past 2^53 (then BigInt, so nothing is rounded). */
function plainRow(row) {
  const out = {};
  for (const k in row) {
    const v = row[k];
    out[k] = typeof v === "bigint" && v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
  }
  return out;
}

/** A driver's error as a MigrationError, as the embedded engine words it. */
function sqlError(e) {
  if (e instanceof MigrationError) return e;
  const code = e?.errcode ?? e?.code;
  const busy = (typeof code === "number" && [5, 6].includes(code & 0xff)) || /^SQLITE_(BUSY|LOCKED)/.test(String(code));
  const data = typeof e?.errcode === "number" ? { sqliteCode: e.errcode } : {};
  return new MigrationError(String(e?.message ?? e), busy ? "LOCKED" : "SQLITE_ERROR", data);
}

/** The migrator's `query`/`exec` on a synchronous driver's connection. `prepare(sql)`
 * returns a statement whose integers read as BigInts; `split(sql)` counts statements
 * (drivers compile the first of several and drop the rest silently). */
function appSql(db, prepare, bigInts) {
  const oneStatement = (sql, split) => {
    if (split(sql).length > 1) throw new MigrationError("parameters bind to one statement: pass one statement per call", "USAGE");
  };
  const changes = () => Number(db.prepare("SELECT total_changes()").all().map((r) => Object.values(r)[0])[0]);
  return {
    query(sql, params, split) {
      oneStatement(sql, split);
      const bound = params.map((v, i) => bindable(v, i, bigInts));
      try {
        return prepare(sql).all(...bound).map(plainRow);
      } catch (e) {
        throw sqlError(e);
      }
    },
    exec(sql, params, split) {
      const before = changes();
      try {
        if (params?.length) {
          oneStatement(sql, split);
          db.prepare(sql).run(...params.map((v, i) => bindable(v, i, bigInts)));
        } else {
          db.exec(sql);
        }
      } catch (e) {
        throw sqlError(e);
      }
      return changes() - before;
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

/** `prepare` for athanor's own writes (`run`), each statement prepared once per
 * connection: the history of 1,000 applied revisions is 40 inserts of one shape
 * (1.5 ms of preparing saved). Migrations' statements go through `exec`. The drivers
 * finalize kept statements when the database closes. */
function keptStatements(db) {
  const kept = new Map();
  return (sql) => {
    let st = kept.get(sql);
    if (!st) {
      // A version table of another name gives other texts: a bound, not a leak.
      if (kept.size >= 32) kept.clear();
      st = db.prepare(sql);
      kept.set(sql, st);
    }
    return st;
  };
}

/** A better-sqlite3 `Database`. */
export function betterSqlite3(db) {
  const prepare = (sql) => {
    const st = db.prepare(sql);
    // safeIntegers: no rounding past 2^53; run() for statements that return no data.
    return st.reader ? st.safeIntegers(true) : { all: (...p) => (st.run(...p), []) };
  };
  const kept = keptStatements(db);
  return synchronous("better-sqlite3", {
    values: (sql, params) => {
      const st = db.prepare(sql);
      // pluck() needs a statement that returns data; PRAGMA assignments do not.
      return st.reader ? st.pluck().all(...params) : (st.run(...params), []);
    },
    run: (sql, params) => kept(sql).run(...params).changes,
    exec: (sql) => {
      db.exec(sql);
    },
    inTransaction: () => db.inTransaction,
  }, undefined, appSql(db, prepare, true));
}

/** A `node:sqlite` `DatabaseSync` (Node 22.5+, Deno), or Bun's `bun:sqlite` `Database`. */
export function nodeSqlite(db) {
  const kept = keptStatements(db);
  return synchronous("node:sqlite", {
    values: (sql, params) => db.prepare(sql).all(...params).map((r) => (Array.isArray(r) ? r[0] : Object.values(r)[0])),
    run: (sql, params) => Number(kept(sql).run(...params).changes),
    exec: (sql) => {
      db.exec(sql);
    },
    // node:sqlite's isTransaction (Node 22.16+), bun:sqlite's inTransaction.
    inTransaction: () => db.isTransaction ?? db.inTransaction,
  }, undefined, typeof db.isTransaction === "boolean" ? appSql(db, (sql) => readBigInts(sql, db), true) : undefined);
}

/** A node:sqlite statement whose integers read as BigInts. */
function readBigInts(sql, db) {
  const st = db.prepare(sql);
  st.setReadBigInts(true);
  return st;
}
