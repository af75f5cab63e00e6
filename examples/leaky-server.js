// The seed's API, with both of its bugs. Run: PORT=3000 node examples/leaky-server.js
//
// Bug 1 (allocation pressure): getItemAssets() rebuilds the whole asset table on every call,
//        several times per request. The garbage is collectable, but it churns the GC.
// Bug 2 (the leak): responseCache stores every response under a key that is unique per
//        request and nothing ever evicts it, so the heap grows until V8 gives up with
//        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory".
'use strict';
const http = require('http');

const PORT = Number(process.env.PORT || 3000);
const ITEM_TYPES = Array.from({ length: 40 }, (_, i) => `item_${String.fromCharCode(97 + (i % 26))}${i}`);

const getItemAssets = (itemType) => {
  const assetConfig = {};
  for (const t of ITEM_TYPES) {
    assetConfig[t] = { thumbnail: `/assets/${t}/thumb.png`, full: `/assets/${t}/full.png` };
  }
  return assetConfig[itemType] || { thumbnail: '', full: '' };
};

const responseCache = new Map();
let requestSeq = 0;

const logMemory = (label) => {
  const { heapUsed } = process.memoryUsage();
  console.log(`[MEM] ${label}: ${Math.round(heapUsed / 1024 / 1024)} MB`);
};

function processData(payload) {
  requestSeq += 1;
  if (requestSeq % 5000 === 0) logMemory('processData START');
  const items = Array.isArray(payload.items) && payload.items.length ? payload.items : ['sample_item'];
  const user = payload.userContext || {};
  const result = {
    user: user.userId || 'anonymous',
    items: items.map((name, i) => ({
      name,
      // Called several times per item, as the seed's helper was, on the hot path.
      assets: getItemAssets(ITEM_TYPES[(i + requestSeq) % ITEM_TYPES.length]),
      preview: getItemAssets(name),
      rank: i,
    })),
    generatedAt: Date.now(),
  };
  // "Cache" keyed by session and request number: every key is new, nothing is ever hit or evicted.
  const cacheKey = `${user.userId}:${user.sessionId}:${requestSeq}`;
  responseCache.set(cacheKey, { result, body: JSON.stringify(result), at: Date.now() });
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
  console.log(`leaky-server listening on http://127.0.0.1:${PORT}`);
  console.log('Heap limit:', Math.round(v8.getHeapStatistics().heap_size_limit / 1024 / 1024), 'MB');
});
