// The seed's API after the fix. Run: PORT=3000 node examples/fixed-server.js
//
// Fix 1: the asset table is built once and frozen; getItemAssets() allocates nothing.
// Fix 2: the response cache is keyed by what is actually reused and bounded (least recently
//        used entries are evicted), so it fills up and then stays flat.
'use strict';
const http = require('http');

const PORT = Number(process.env.PORT || 3000);
const ITEM_TYPES = Array.from({ length: 40 }, (_, i) => `item_${String.fromCharCode(97 + (i % 26))}${i}`);

const ASSET_CONFIG = Object.freeze(
  Object.fromEntries(
    ITEM_TYPES.map((t) => [t, Object.freeze({ thumbnail: `/assets/${t}/thumb.png`, full: `/assets/${t}/full.png` })]),
  ),
);
const DEFAULT_ASSET = Object.freeze({ thumbnail: '', full: '' });
const getItemAssets = (itemType) => ASSET_CONFIG[itemType] || DEFAULT_ASSET;

const CACHE_MAX = 1000;
const responseCache = new Map();
let requestSeq = 0;

const logMemory = (label) => {
  const { heapUsed } = process.memoryUsage();
  console.log(`[MEM] ${label}: ${Math.round(heapUsed / 1024 / 1024)} MB`);
};

function cacheSet(key, value) {
  if (responseCache.has(key)) responseCache.delete(key);
  responseCache.set(key, value);
  if (responseCache.size > CACHE_MAX) responseCache.delete(responseCache.keys().next().value);
}

function processData(payload) {
  requestSeq += 1;
  if (requestSeq % 5000 === 0) logMemory('processData START');
  const items = Array.isArray(payload.items) && payload.items.length ? payload.items : ['sample_item'];
  const user = payload.userContext || {};
  const result = {
    user: user.userId || 'anonymous',
    items: items.map((name, i) => ({
      name,
      assets: getItemAssets(ITEM_TYPES[(i + requestSeq) % ITEM_TYPES.length]),
      preview: getItemAssets(name),
      rank: i,
    })),
    generatedAt: Date.now(),
  };
  // Keyed by what repeats (user, session, items) and bounded.
  const cacheKey = `${user.userId}:${user.sessionId}:${items.join(',')}`;
  cacheSet(cacheKey, { result, body: JSON.stringify(result), at: Date.now() });
  return result;
}

const DEFAULT_PAYLOAD = { items: ['sample_item'], userContext: { userId: 'test-user', sessionId: 'test-session' } };

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let payload = DEFAULT_PAYLOAD;
    if (req.method === 'POST' && chunks.length) {
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end('{"error":"invalid JSON"}');
      }
    }
    const result = processData(payload);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, count: result.items.length }));
  });
});

server.listen(PORT, '127.0.0.1', () => {
  const v8 = require('v8');
  console.log(`fixed-server listening on http://127.0.0.1:${PORT}`);
  console.log('Heap limit:', Math.round(v8.getHeapStatistics().heap_size_limit / 1024 / 1024), 'MB');
});
