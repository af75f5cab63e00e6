// No leak: a bounded LRU cache (30,000 entries) fills up, then stays at its size.
const serve = require('./_serve');
const MAX = 30000;
const cache = new Map();
serve('ok-lru', (req, seq) => {
  const key = `k${seq % 60000}`;
  if (cache.has(key)) {
    const v = cache.get(key);
    cache.delete(key);
    cache.set(key, v);
    return 1;
  }
  cache.set(key, { seq, url: req.url, data: 'x'.repeat(200) + seq });
  if (cache.size > MAX) cache.delete(cache.keys().next().value);
  return cache.size;
});
