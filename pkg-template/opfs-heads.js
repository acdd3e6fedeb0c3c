// The heads of the migration sets this origin has parsed (heads.js), in a small file
// beside the OPFS pool (`<directory>/.athanor-heads.json`). Written without the pool's
// lock: each write replaces the whole file at once (createWritable), and whichever
// version a reader finds is right.

import { poolDirectory } from "./opfs-lease.js";
import { fingerprintOf, readEntries, withEntry } from "./heads.js";

const FILE = ".athanor-heads.json";

/** The remembered entries (heads.js); never rejects. */
export async function readHeads(directory) {
  try {
    const dir = await poolDirectory(directory, false);
    return readEntries(await (await (await dir.getFileHandle(FILE)).getFile()).text());
  } catch {
    return [];
  }
}

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

/** The fingerprint of a joined set (api.js `joined`); null for anything else. */
export async function fingerprint(set) {
  const { joinedNames: names, joinedTexts: texts } = set ?? {};
  if (!(names instanceof Uint8Array && texts instanceof Uint8Array) || !globalThis.crypto?.subtle) return null;
  try {
    const [n, t] = await Promise.all([crypto.subtle.digest("SHA-256", names), crypto.subtle.digest("SHA-256", texts)]);
    return fingerprintOf(hex(n), hex(t));
  } catch {
    return null;
  }
}

/** Remembers `heads` for `print` (a fingerprint), first; errors are ignored (a cache). */
export async function rememberHeads(directory, print, heads) {
  try {
    // Read again: other tabs may have written since.
    const text = withEntry(await readHeads(directory), print, heads);
    if (text === null) return;
    const dir = await poolDirectory(directory, false);
    const writable = await (await dir.getFileHandle(FILE, { create: true })).createWritable();
    await writable.write(text);
    await writable.close();
  } catch {
    // Not remembered: the next load parses, as without this file.
  }
}
