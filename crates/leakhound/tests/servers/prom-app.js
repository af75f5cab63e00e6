// A service exposing prom-client's default metrics on 127.0.0.1:$PORT/metrics, for the fleet
// test. MODE: `leak` keeps ~$LEAK_KB KiB per 100 ms forever; `healthy` allocates the same
// amount of short-lived garbage and keeps a bounded cache. Needs prom-client on NODE_PATH.
'use strict';
const http = require('http');
const client = require('prom-client');

client.collectDefaultMetrics();
const mode = process.env.MODE || 'healthy';
const kb = Number(process.env.LEAK_KB || 50);

const kept = [];
const cache = new Map();
let n = 0;
setInterval(() => {
  n++;
  // An array of kb KiB of doubles (8 bytes each).
  const chunk = new Array((kb * 1024) / 8).fill(n + 0.5);
  if (mode === 'leak') {
    kept.push(chunk);
  } else {
    cache.set(n % 50, chunk.length);
  }
}, 100);

http
  .createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', client.register.contentType);
      res.end(await client.register.metrics());
    } else {
      res.end('ok');
    }
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
