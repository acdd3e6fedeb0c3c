// The baseline of the warm reload: a worker that only answers one message.
onmessage = (e) => postMessage(e.data);
