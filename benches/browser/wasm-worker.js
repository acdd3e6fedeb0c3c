// The floor of the warm reload for any engine that runs athanor's embedded wasm in a
// worker: a worker that only instantiates it (compiled by the page meanwhile, as
// pkg/web.js does) and answers one message. No lock, no OPFS pool, no parse, no read.
import initWasm from "/pkg/athanor.js";

self.onmessage = async ({ data }) => {
  await initWasm({ module_or_path: data });
  self.postMessage("ready");
};
