// Migrations as Node's entries take them (node.js, safety-node.js): a directory path
// reads its `*.sql` files; anything else is taken as data.
import { acceptMigrations, JOINED } from "./api.js";
import { MigrationError } from "./errors.js";
import { readListed } from "./node-host.js";
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
    const files = [];
    let utf8 = true;
    for (const e of entries) {
      // Regular files and symlinks to them only: a FIFO would block forever.
      let bytes;
      try {
        bytes = readListed(e, prefix + e.name);
      } catch (err) {
        throw new MigrationError(err.message, "IO_ERROR");
      }
      if (bytes === null) throw new MigrationError(`cannot read '${prefix + e.name}': it is gone (removed while being read), not a regular file`, "IO_ERROR");
      names.push(e.name);
      files.push(bytes);
      utf8 &&= isUtf8(bytes);
    }
    if (!utf8) return names.map((name, i) => ({ name, text: files[i].toString("utf8") }));
    if (!names.length) return [];
    const parts = [];
    for (const f of files) parts.push(f, NUL);
    parts.pop();
    return { [JOINED]: { joinedNames: Buffer.from(names.join("\0")), joinedTexts: Buffer.concat(parts) } };
  }
  return acceptMigrations(migrations);
}
const NUL = new Uint8Array(1);
