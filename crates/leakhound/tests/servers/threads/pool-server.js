// Test server for a healthy worker pool: two worker threads (hash-worker.js) take turns
// hashing each request's path and answer; nobody keeps anything.
'use strict';
const http = require('http');
const path = require('path');
const { Worker } = require('worker_threads');

const PORT = Number(process.env.PORT || 3000);
const pending = new Map();
let next = 0;
const pool = [0, 1].map(() => {
  const w = new Worker(path.join(__dirname, 'hash-worker.js'));
  w.on('message', ({ id, digest }) => {
    const res = pending.get(id);
    pending.delete(id);
    if (res) res.end(JSON.stringify({ digest }));
  });
  return w;
});

http
  .createServer((req, res) => {
    const id = next++;
    pending.set(id, res);
    pool[id % pool.length].postMessage({ id, path: req.url });
  })
  .listen(PORT, '127.0.0.1', () => console.log(`listening on ${PORT}`));
