// Leak: each request chains work onto a promise that never settles; every reaction (and its
// closure) stays attached to it forever.
const serve = require('./_serve');
const ready = new Promise(() => {}); // "wait until the config service answers" - it never does
let waiting = 0;
serve('leak-promises', (req, seq) => {
  const ctx = { seq, url: req.url };
  waiting += 1;
  ready.then(() => ctx.url);
  return waiting;
});
