// Leak: memoised "handlers" are closures over each request's context, kept in a list.
const serve = require('./_serve');
const handlers = [];
serve('leak-closures', (req, seq) => {
  const context = { seq, url: req.url, scratch: new Array(8).fill(seq) };
  handlers.push(() => context.scratch.length + context.seq);
  return handlers.length;
});
