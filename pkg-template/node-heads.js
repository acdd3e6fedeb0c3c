// The heads of the migration sets parsed in Node (heads.js), for an installed package:
// in `node_modules/.cache/athanor/heads.json` beside it (the place build tools keep
// their caches; deleting it is always safe). A package not inside a node_modules
// directory (bundled into an app, or run from a checkout) remembers nothing. Written to
// a temporary file and renamed over the store, so a reader never sees half of one.
import { builtin } from "./node-sqlite.js";
import { fingerprintOf, readEntries, recall, withEntry } from "./heads.js";

const { readFileSync, writeFileSync, renameSync, mkdirSync, rmSync } = builtin("node:fs");

const modules = new URL("../", import.meta.url);
const dir = modules.protocol === "file:" && modules.pathname.endsWith("/node_modules/") ? new URL(".cache/athanor/", modules) : null;
const store = dir && new URL("heads.json", dir);

const entries = () => {
  try {
    return readEntries(readFileSync(store, "utf8"));
  } catch {
    return [];
  }
};

/** For a joined set (api.js `joined`): `{ heads, remember(heads) }`, its remembered
 * heads (or null) and a way to remember those a parse found; null where nothing is
 * remembered. `wasm`: the initialised wasm with `fingerprint` (src/wasm/fingerprint.rs).
 * Never throws: a store that cannot be read or written is no store. */
export function rememberedHeads(set, wasm) {
  const { joinedNames: names, joinedTexts: texts } = set ?? {};
  if (!store || !(names instanceof Uint8Array && texts instanceof Uint8Array)) return null;
  const print = fingerprintOf(wasm.fingerprint(names, texts));
  return {
    heads: recall(entries(), print),
    remember(heads) {
      const temp = new URL(`heads.${process.pid}.tmp`, dir);
      try {
        // Read again: other processes may have written since.
        const text = withEntry(entries(), print, heads);
        if (text === null) return;
        mkdirSync(dir, { recursive: true });
        writeFileSync(temp, text);
        renameSync(temp, store);
      } catch {
        // Not remembered: the next start parses, as without the store.
        try {
          rmSync(temp, { force: true });
        } catch {}
      }
    },
  };
}
