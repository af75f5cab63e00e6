// A leak through node-cache: the cache is created with `stdTTL: 0` (never expire) and no
// `maxKeys`, and every request stores a value under a new key, so `cache.data` keeps them all.
// The line to change: the `new NodeCache(` call (give it a `stdTTL` and a `maxKeys`), or the
// `cache.set(` key that is unique per request.
// Run: PORT=3000 node node-cache-no-ttl.js
'use strict';
const http = require('http');
const NodeCache = require('node-cache');

const cache = new NodeCache({ stdTTL: 0, checkperiod: 0, useClones: false });

let seq = 0;
function handle(req, res) {
  seq += 1;
  const key = `render:${req.url}:${seq}`;
  cache.set(key, { html: `<p>page ${seq}</p>`.repeat(20), at: Date.now() });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

const server = http.createServer(handle).listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`node-cache-no-ttl listening on ${server.address().port}`);
});
