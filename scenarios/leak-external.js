// Leak outside the JS heap: a 2 KB Buffer per request is kept; the JS heap barely moves.
const serve = require('./_serve');
const kept = [];
serve('leak-external', (req, seq) => {
  const b = Buffer.alloc(2048, seq & 0xff);
  kept.push(b);
  return kept.length;
});
