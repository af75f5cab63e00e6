// Test server for worker-thread leaks: every request is posted to a worker thread
// (audit-worker.js) that keeps a record of it forever; the main thread keeps nothing (its
// pending map is emptied by each reply), so only the worker's heap grows.
'use strict';
const http = require('http');
const path = require('path');
const { Worker } = require('worker_threads');

const PORT = Number(process.env.PORT || 3000);
const worker = new Worker(path.join(__dirname, 'audit-worker.js'));
const pending = new Map();
let next = 0;
worker.on('message', ({ id, n }) => {
  const res = pending.get(id);
  pending.delete(id);
  if (res) res.end(JSON.stringify({ audited: n }));
});

http
  .createServer((req, res) => {
    const id = next++;
    pending.set(id, res);
    worker.postMessage({ id, path: req.url });
  })
  .listen(PORT, '127.0.0.1', () => console.log(`listening on ${PORT}`));
