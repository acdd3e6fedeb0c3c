// `athanor/safety`: `athanor test` and `athanor lint` as functions of the migrations
// alone, in every runtime. Each runtime's entry (safety-node.js, safety-web.js,
// safety-workerd.js) loads the full wasm its own way and hands its loader here; the
// logic is the Rust's (src/wasm/safety.rs), called as migrator.test() and lint() call it.
import { acceptMigrations, joined } from "./api.js";
import { runTest, runLint } from "./safety.js";

/** `full()`: the initialised full wasm (or a promise of it); `resolveMigrations`: what
 * the entry accepts as migrations beyond data (Node: a directory path). */
export function safetyApi(full, resolveMigrations = acceptMigrations) {
  const prepare = async (migrations) => {
    const set = joined(await resolveMigrations(migrations));
    return [await full(), set];
  };
  return {
    /** Every revision's upgrade, downgrade and upgrade again on a scratch database, then
     * down to base and up to the heads; `seed`: rows in every table before each step. */
    async testMigrations(migrations, { seed = false, versionTable } = {}) {
      const [wasm, set] = await prepare(migrations);
      return runTest(wasm, set, { seed, versionTable });
    },
    /** Each migration of `range` (as `history -r`; default: what an upgrade from `rows`
     * would apply, or without rows the heads) classed on a scratch copy of the schema. */
    async lintMigrations(migrations, { range, rows } = {}) {
      const [wasm, set] = await prepare(migrations);
      return runLint(wasm, set, { range, rows });
    },
  };
}
