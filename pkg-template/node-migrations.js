// Migrations as Node's entries take them (node.js, safety-node.js): a directory path
// reads its `*.sql` files; anything else is taken as data.
import { acceptMigrations, JOINED } from "./api.js";
import { MigrationError } from "./errors.js";
import { JoinedFiles } from "./node-host.js";
import { builtin } from "./node-sqlite.js";

// Built-ins without the ES-module facades an `import` builds (node-sqlite.js).
const { readdirSync, statSync } = builtin("node:fs");
const { join } = builtin("node:path");
const { Buffer, isUtf8 } = builtin("node:buffer");

/** A directory path reads its `*.sql` files; anything else is taken as data. The
 * files' bytes are joined as they are read (api.js `joined`), with no decoding to text
 * and encoding back, unless one is not UTF-8 (then as text, invalid bytes replaced). */
export function resolveMigrations(migrations) {
  if (typeof migrations === "string") {
    let entries;
    try {
      if (!statSync(migrations).isDirectory()) throw new Error("not a directory");
      entries = readdirSync(migrations, { withFileTypes: true }).filter((e) => e.name.endsWith(".sql"));
    } catch (e) {
      throw new MigrationError(`cannot read migrations directory '${migrations}': ${e.message}`, "IO_ERROR");
    }
    // join(dir, name) for every name (none has a separator): the normalized prefix once.
    const prefix = join(migrations, "x").slice(0, -1);
    const names = [];
    // NUL between files, as api.js `joined` joins texts.
    const files = new JoinedFiles(0);
    for (const e of entries) {
      // Regular files and symlinks to them only: a FIFO would block forever.
      let added;
      try {
        added = files.add(e, prefix + e.name);
      } catch (err) {
        throw new MigrationError(err.message, "IO_ERROR");
      }
      if (!added) throw new MigrationError(`cannot read '${prefix + e.name}': it is gone (removed while being read), not a regular file`, "IO_ERROR");
      names.push(e.name);
    }
    if (!names.length) return [];
    const bytes = files.bytes;
    if (!isUtf8(bytes)) {
      // One is not UTF-8: each as text, invalid bytes replaced.
      return names.map((name, i) => ({ name, text: bytes.subarray(i ? files.ends[i - 1] + 1 : 0, files.ends[i]).toString("utf8") }));
    }
    return { [JOINED]: { joinedNames: Buffer.from(names.join("\0")), joinedTexts: bytes } };
  }
  return acceptMigrations(migrations);
}
