// No leak: per-request metadata in a WeakMap keyed by the request; it goes with the request.
const serve = require('./_serve');
const meta = new WeakMap();
serve('ok-weakmap', (req, seq) => {
  meta.set(req, { seq, started: Date.now(), notes: new Array(16).fill(seq) });
  return meta.get(req).notes.length;
});
