// No leak: a TTL cache; entries expire after 1.5 s and a sweeper removes them.
const serve = require('./_serve');
const TTL_MS = 1500;
const cache = new Map();
setInterval(() => {
  const now = Date.now();
  for (const [k, v] of cache) if (now - v.at > TTL_MS) cache.delete(k);
}, 250).unref();
serve('ok-ttl', (req, seq) => {
  cache.set(`k${seq}`, { at: Date.now(), data: 'y'.repeat(100) + seq });
  return cache.size;
});
