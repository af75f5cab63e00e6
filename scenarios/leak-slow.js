// A slow leak, well under 100 bytes per request: a request id string kept in a list.
const serve = require('./_serve');
const seen = [];
serve('leak-slow', (req, seq) => {
  seen.push(`r${seq}`);
  return seen.length;
});
