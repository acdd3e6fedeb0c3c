// `migrator.test()` and `migrator.lint()`: `athanor test` and `athanor lint` through the
// JS API. Both run on scratch databases in the full wasm (loaded on their first call,
// as autogenerate's), never on the migrator's database; lint only reads its version
// table when no range is given.
import { call, MigrationError } from "./errors.js";

/** Adds `test` and `lint` to migrator `m` of migrations `set`; `full()` loads the full
 * wasm (absent where it is not shipped: browsers, workerd). */
export function withSafety(m, full, set, versionTable) {
  const need = (what) => {
    if (!full) throw new MigrationError(`${what} runs in Node and the CLI (\`athanor ${what}\`): this entry's wasm leaves it out`, "USAGE");
    return full();
  };
  /** Every revision's upgrade, downgrade and upgrade again, then down to base and up to
   * the heads; `seed`: rows in every table before each step. Resolves to the report
   * (`passed`, and the first `failure` with its ROUND_TRIP_FAILED `error`). */
  m.test = async ({ seed = false } = {}) => {
    const wasm = need("test");
    return call(() => wasm.testMigrations(set, versionTable ?? null, Boolean(seed)));
  };
  /** Each migration of `range` (as `history -r`; default: what the database has not
   * applied) classed: destructive, data-dependent, backward-incompatible,
   * non-transactional. Resolves to `{ revisions, findings, ignored }`. */
  m.lint = async (range) => {
    const wasm = need("lint");
    if (range != null && typeof range !== "string") throw new MigrationError("lint's range must be a string such as \"base:heads\"", "USAGE");
    const rows = range == null || range.split(":").some((side) => side.trim() === "current") ? await m.rows() : null;
    return call(() => wasm.lintMigrations(set, range ?? null, rows));
  };
  return m;
}
