// Connects the wasm SQLite to real files through Node's fs (the "athanor-node" VFS).
// The wasm never imports node:fs itself, so the same .wasm loads in browsers and
// workers; in Node this module hands it the synchronous calls it needs.
import * as fs from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";

/** Deno without `--allow-sys` refuses hostname(); an in-memory migrator must not need
 * that permission. Locks then name an unknown host, so they are never judged stale by
 * process id: waited for, never broken. */
function hostnameOrUnknown() {
  try {
    return hostname();
  } catch {
    return "(unknown host)";
  }
}

/**
 * The host object `installNodeVfs` takes. Every function is called synchronously and
 * reports failure by throwing a Node system error (`code` such as "ENOENT"/"EEXIST",
 * `errno`, `message`).
 */
export function nodeVfsHost() {
  return {
    openSync: fs.openSync, // (path, flags: number, mode: number) -> fd
    closeSync: fs.closeSync, // (fd)
    readSync: fs.readSync, // (fd, Uint8Array, offset, length, position) -> bytesRead
    writeSync: fs.writeSync, // (fd, Uint8Array, offset, length, position) -> bytesWritten
    fstatSync: fs.fstatSync, // (fd) -> { size }
    ftruncateSync: fs.ftruncateSync, // (fd, length)
    fsyncSync: fs.fsyncSync, // (fd)
    statSync: fs.statSync, // (path, { throwIfNoEntry: false }) -> { size, mtimeMs, isFile() } | undefined
    accessSync: fs.accessSync, // (path, mode) throws unless permitted
    unlinkSync: fs.unlinkSync, // (path)
    renameSync: fs.renameSync, // (from, to), replacing `to`
    readFileSync: fs.readFileSync, // (path, "utf8") -> string
    writeFileSync: fs.writeFileSync, // (path, string, { flag: "w" | "wx" })
    constants: fs.constants, // O_RDONLY, O_RDWR, O_CREAT, O_EXCL, R_OK, W_OK
    resolve, // (path) -> absolute path
    pid: process.pid,
    hostname: hostnameOrUnknown(),
    // A lock whose holder is dead on this host is stale. EPERM means it exists.
    processAlive(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return e.code !== "ESRCH";
      }
    },
  };
}

export function installVfs(wasm) {
  if (typeof wasm.installNodeVfs === "function") {
    wasm.installNodeVfs(nodeVfsHost());
  }
}
