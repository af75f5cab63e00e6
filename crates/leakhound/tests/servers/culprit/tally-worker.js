// The worker thread of thread-tally.js: a tally of requests by path that keeps each request
// it saw in `seenRequests`, keyed by a request id that never repeats. The line to change is
// the `seenRequests.set(`.
'use strict';
const { parentPort } = require('node:worker_threads');

const seenRequests = new Map();
const byPath = Object.create(null);

function tally(msg) {
  byPath[msg.path] = (byPath[msg.path] || 0) + 1;
  const entry = {
    id: msg.id,
    path: msg.path,
    agent: msg.agent,
    at: Date.now(),
    note: `request ${msg.id} to ${msg.path} `.repeat(16),
  };
  seenRequests.set(`req-${msg.id}`, entry);
  return byPath[msg.path];
}

parentPort.on('message', (msg) => {
  parentPort.postMessage({ id: msg.id, count: tally(msg) });
});
