// A worker that starts, then dies of an uncaught error, as a crashed worker would.
setTimeout(() => {
  throw new Error("boom");
}, 200);
