// Migrations as Node's entries take them (node.js, safety-node.js): a directory path
// reads its `*.sql` files; anything else is taken as data.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { acceptMigrations } from "./api.js";
import { MigrationError } from "./errors.js";
import { readRegular } from "./node-host.js";

/** A directory path reads its `*.sql` files; anything else is taken as data. */
export function resolveMigrations(migrations) {
  if (typeof migrations === "string") {
    let names;
    try {
      if (!statSync(migrations).isDirectory()) throw new Error("not a directory");
      names = readdirSync(migrations).filter((n) => n.endsWith(".sql"));
    } catch (e) {
      throw new MigrationError(`cannot read migrations directory '${migrations}': ${e.message}`, "IO_ERROR");
    }
    return names.map((name) => {
      // Regular files and symlinks to them only: a FIFO would block forever.
      let bytes;
      try {
        bytes = readRegular(join(migrations, name));
      } catch (e) {
        throw new MigrationError(e.message, "IO_ERROR");
      }
      if (bytes === null) throw new MigrationError(`cannot read '${join(migrations, name)}': it is gone (removed while being read), not a regular file`, "IO_ERROR");
      return { name, text: bytes.toString("utf8") };
    });
  }
  return acceptMigrations(migrations);
}
