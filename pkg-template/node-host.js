// What the CLI layer (in the wasm) needs from Node: synchronous file access, the clock
// and randomness. The database file itself goes through the VFS, not through here.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

export const nodeHost = {
  readMigrations(dir) {
    // Alembic shows resolved absolute paths; resolving the directory once is enough.
    const real = realpathSync(resolve(dir));
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".sql"))
      .map((e) => ({ fileName: e.name, path: join(real, e.name), bytes: readFileSync(join(real, e.name)) }));
  },
  readText(path) {
    return existsSync(path) ? readFileSync(path, "utf8") : null;
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
    return randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
  },
};
