// Not a leak: an index over a bounded key space (20,000 keys) built from traffic. A request for
// a key not yet indexed costs ~1 ms of work and keeps ~3.2 KB; random keys fill the index ever
// more slowly (the coupon collector) and it settles near 65 MB.
'use strict';
const http = require('http');
const port = Number(process.env.PORT || 3000);
const KEYS = 20000;
const index = new Map();
http
  .createServer((req, res) => {
    const key = Math.floor(Math.random() * KEYS);
    if (!index.has(key)) {
      const until = process.hrtime.bigint() + 1_000_000n;
      while (process.hrtime.bigint() < until);
      index.set(key, new Array(400).fill(key));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, size: index.size }));
  })
  .listen(port, '127.0.0.1', () => console.log(`warm-index listening on ${port}`));
