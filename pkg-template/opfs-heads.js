// The heads of the migration sets this origin has parsed, by each set's SHA-256, in a
// small file beside the OPFS pool (`<directory>/.athanor-heads.json`): a page load at
// head with the same migrations then parses nothing, as with the heads an `athanor
// bundle` module names. An entry is keyed by the exact bytes it was parsed from, so it
// is never wrong for the set it names; a file that is missing or unreadable is an empty
// one. Written without the pool's lock: each write replaces the whole file at once
// (createWritable), and whichever version a reader finds is right.

import { poolDirectory } from "./opfs-lease.js";

const FILE = ".athanor-heads.json";
/** Entries kept (a pool may hold databases of several sets, and sets change). */
const KEEP = 16;

/** The remembered heads, `[[fingerprint, heads], ...]`, newest first; never rejects. */
export async function readHeads(directory) {
  try {
    const dir = await poolDirectory(directory, false);
    const text = await (await (await dir.getFileHandle(FILE)).getFile()).text();
    const entries = JSON.parse(text);
    return Array.isArray(entries)
      ? entries.filter((e) => Array.isArray(e) && typeof e[0] === "string" && Array.isArray(e[1]) && e[1].every((h) => typeof h === "string"))
      : [];
  } catch {
    return [];
  }
}

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

/** SHA-256 of a joined set's names and texts (api.js `joined`); null for anything else. */
export async function fingerprint(set) {
  const { joinedNames: names, joinedTexts: texts } = set ?? {};
  if (!(names instanceof Uint8Array && texts instanceof Uint8Array) || !globalThis.crypto?.subtle) return null;
  try {
    const [n, t] = await Promise.all([crypto.subtle.digest("SHA-256", names), crypto.subtle.digest("SHA-256", texts)]);
    return `${hex(n)}:${hex(t)}`;
  } catch {
    return null;
  }
}

/** Remembers `heads` for `print` (a fingerprint), first; errors are ignored (a cache). */
export async function rememberHeads(directory, print, heads) {
  try {
    const known = await readHeads(directory);
    if (known[0]?.[0] === print) return;
    const entries = [[print, heads], ...known.filter(([p]) => p !== print)].slice(0, KEEP);
    const dir = await poolDirectory(directory, false);
    const writable = await (await dir.getFileHandle(FILE, { create: true })).createWritable();
    await writable.write(JSON.stringify(entries));
    await writable.close();
  } catch {
    // Not remembered: the next load parses, as without this file.
  }
}
