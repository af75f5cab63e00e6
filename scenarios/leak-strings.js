// Leak: a debug log kept as one ever-growing string.
const serve = require('./_serve');
let log = '';
serve('leak-strings', (req, seq) => {
  log += `${new Date().toISOString()} ${req.method} ${req.url} #${seq}\n`;
  if (seq % 1000 === 0) log = log.slice(0); // flattening does not shrink it
  return log.length;
});
