// Leak: an audit log array that only grows.
const serve = require('./_serve');
const audit = [];
serve('leak-array', (req, seq) => {
  audit.push({ seq, method: req.method, url: req.url, ua: req.headers['user-agent'], at: Date.now() });
  return audit.length;
});
