// Connects the wasm SQLite to real files through Node's fs (the "athanor-node" VFS).
export function installVfs(wasm) {
  if (typeof wasm.installNodeVfs === "function") {
    wasm.installNodeVfs();
  }
}
