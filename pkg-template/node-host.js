// What the CLI layer (in the wasm) needs from Node: synchronous file access, the clock
// and randomness. The database file itself goes through the VFS, not through here.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

const pad = (n, w = 2) => String(n).padStart(w, "0");

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
    // Local time, as Alembic's Create Date: YYYY-MM-DD HH:MM:SS.ffffff
    const d = new Date();
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`;
  },
  randomHex(n) {
    return randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
  },
};
