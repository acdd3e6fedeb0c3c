// The package starts its OPFS worker with `new Worker(new URL(...), { type: "module" })`;
// module workers are bundled as ES modules.
export default {
  worker: { format: "es" },
};
