// The workaround a Vite 7 app needs for its dev server (tests/js/vite.test.mjs passes it
// with --config): without it, dependency pre-bundling moves athanor's web.js into
// node_modules/.vite/deps/, where `new URL("./athanor_bg.wasm", import.meta.url)` finds no
// wasm and the dev server answers with index.html instead.
export default { optimizeDeps: { exclude: ["athanor"] } };
