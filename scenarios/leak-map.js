// Leak: an unbounded Map keyed by a per-request id; nothing is ever deleted.
const serve = require('./_serve');
const sessions = new Map();
serve('leak-map', (req, seq) => {
  sessions.set(`session-${seq}`, { seq, at: Date.now(), path: req.url, tags: ['a', 'b', 'c'] });
  return sessions.size;
});
