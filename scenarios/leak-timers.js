// Leak: a per-request timeout of one hour keeps its closure (and context) alive.
const serve = require('./_serve');
let armed = 0;
serve('leak-timers', (req, seq) => {
  const ctx = { seq, url: req.url, headers: { ...req.headers } };
  setTimeout(() => { armed -= ctx.seq > 0 ? 1 : 0; }, 3600 * 1000);
  armed += 1;
  return armed;
});
