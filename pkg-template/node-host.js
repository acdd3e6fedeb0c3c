// What the CLI layer (in the wasm) needs from Node: synchronous file access, the
// database (node:sqlite), the clock and randomness.
import { nodeSqlite } from "./adapters.js";
import { builtin, fileIdentity, openDatabaseSync } from "./node-sqlite.js";

const { readFileSync, readdirSync, statSync, lstatSync, writeFileSync, mkdirSync, existsSync, realpathSync, unlinkSync } = builtin("node:fs");
const { join, resolve } = builtin("node:path");

/** What a path is when it is not a regular file; words as the native host's. */
function kind(st) {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isDirectory()) return "a directory";
  return "a special file";
}

/**
 * The bytes of a regular file (or of the one a symlink leads to); `null` when nothing
 * is at `path`. Anything else throws: reading a FIFO would block forever.
 */
export function readRegular(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) {
    if (lstatSync(path, { throwIfNoEntry: false })) throw new Error(`cannot read '${path}': it is a symlink to nothing, not a regular file`);
    return null;
  }
  if (!st.isFile()) throw new Error(`cannot read '${path}': it is ${kind(st)}, not a regular file`);
  return readFileSync(path);
}

/** Files' bytes back to back in one buffer, each written straight into it: no Buffer
 * per file and no concatenation after (1,000 migrations: about 1 ms). `ends[i]`: where
 * file i's bytes end; `separator` (a byte), if given, goes between files. */
export class JoinedFiles {
  #buf = Buffer.allocUnsafe(1 << 18);
  #at = 0;
  #separator;
  ends = [];

  constructor(separator) {
    this.#separator = separator;
  }

  /** Appends the directory entry `entry` at `path`; false when nothing is there any
   * more. One the directory lists as a regular file is read as UTF-8 text in one call
   * into Node (open, read and close in C++: 1,000 migrations, about 1 ms less than a
   * call for each), with no stat first; when that fails, when the text has a
   * replacement character (invalid UTF-8 reads as one: its bytes are read as they are,
   * for the parser to name the byte), or the entry is anything else, readRegular reads
   * it or says what it is. */
  add(entry, path) {
    if (this.ends.length && this.#separator !== undefined) this.#put([this.#separator]);
    const text = entry.isFile() ? readText(path) : null;
    if (text !== null && !text.includes("\uFFFD")) {
      this.#room(text.length * 3);
      this.#at += this.#buf.write(text, this.#at);
    } else {
      const bytes = readRegular(path);
      if (bytes === null) return false;
      this.#put(bytes);
    }
    this.ends.push(this.#at);
    return true;
  }

  get bytes() {
    return this.#buf.subarray(0, this.#at);
  }

  #room(n) {
    if (this.#buf.length - this.#at >= n) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(bigger, 0, 0, this.#at);
    this.#buf = bigger;
  }

  #put(bytes) {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
  }
}

/** The file at `path` as UTF-8 text; null when it cannot be read (gone, or replaced
 * since the listing: readRegular then says what it is). */
function readText(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** SQLite's "unable to open database file" names no file: add it, as the native CLI
 * (rusqlite) does. */
function openError(e, path) {
  if (e?.code === "NODE_SQLITE_UNAVAILABLE") return e;
  return new Error(e?.message === "unable to open database file" ? `${e.message}: ${path}` : String(e?.message ?? e));
}

export const nodeHost = {
  /** The database's connection primitives (adapters.js) plus hasMoved() and close();
   * `null` when the file does not exist and `create` is false. */
  openDb(path, create) {
    if (!create && path !== ":memory:" && !existsSync(path)) return null;
    let db;
    try {
      db = openDatabaseSync(path);
    } catch (e) {
      throw openError(e, path);
    }
    const opened = fileIdentity(path);
    return {
      ...nodeSqlite(db).connection,
      hasMoved: () => opened !== null && fileIdentity(path) !== opened,
      close: () => db.close(),
    };
  },
  /** The `*.sql` files as `{ names, paths, bytes, ends }` (src/wasm/cli.rs): names and
   * paths NUL-joined as UTF-8, the bytes concatenated, `ends[i]` where file i's bytes end. */
  readMigrations(dir) {
    // Alembic shows resolved absolute paths; resolving the directory once is enough.
    const real = realpathSync(resolve(dir));
    const names = [];
    const paths = [];
    const files = new JoinedFiles();
    // join(real, name) for every name (none has a separator): the prefix once.
    const prefix = join(real, "x").slice(0, -1);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.name.endsWith(".sql")) continue;
      const at = prefix + e.name;
      // A symlinked migration is read through its link and shown at its target.
      if (!files.add(e, at)) throw new Error(`cannot read '${at}': it is gone (removed while being read), not a regular file`);
      names.push(e.name);
      paths.push(e.isSymbolicLink() ? realpathSync(at) : at);
    }
    // Bytes, not strings: wasm-bindgen passes a string with a JS loop over each character.
    return { names: Buffer.from(names.join("\0")), paths: Buffer.from(paths.join("\0")), bytes: files.bytes, ends: Uint32Array.from(files.ends) };
  },
  readBytes(path) {
    return readRegular(path);
  },
  removeFile(path) {
    try {
      unlinkSync(path);
    } catch (e) {
      if (e.code !== "ENOENT") throw e;
    }
  },
  createFile(path, text) {
    writeFileSync(path, text, { flag: "wx" });
  },
  writeFile(path, text) {
    writeFileSync(path, text);
  },
  createDir(path) {
    mkdirSync(path, { recursive: true });
  },
  exists(path) {
    return existsSync(path);
  },
  dirIsEmpty(path) {
    return statSync(path).isDirectory() && readdirSync(path).length === 0;
  },
  now() {
    // The wasm formats it (UTC, as the native CLI).
    return Date.now();
  },
  randomHex(n) {
    // node:crypto only here (`revision`): importing it costs every other command 4 ms.
    return builtin("node:crypto").randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
  },
};
