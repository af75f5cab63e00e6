// A service that hands each request to a worker thread (tally-worker.js) and answers with
// its reply. The main thread keeps nothing (`waiting` is emptied by each reply); the leak
// is in the worker's file: it keeps every request it tallied.
// Run: PORT=3000 node thread-tally.js
'use strict';
const http = require('node:http');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const worker = new Worker(path.join(__dirname, 'tally-worker.js'));
const waiting = new Map();
let next = 0;
worker.on('message', ({ id, count }) => {
  const res = waiting.get(id);
  waiting.delete(id);
  if (res) res.end(JSON.stringify({ count }));
});

http
  .createServer((req, res) => {
    const id = next++;
    waiting.set(id, res);
    worker.postMessage({ id, path: req.url, agent: req.headers['user-agent'] || '' });
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    console.log(`thread-tally listening on ${process.env.PORT}`);
  });
