// The worker thread of thread-tally.js: it keeps each request it tallied in `seenRequests`,
// keyed by a request id that never repeats, and never forgets one. The line to change is the
// `seenRequests.set(`.
'use strict';
const { parentPort } = require('node:worker_threads');

const seenRequests = new Map();

function tally(msg) {
  const entry = {
    id: msg.id,
    path: msg.path,
    agent: msg.agent,
    at: Date.now(),
    note: `request ${msg.id} to ${msg.path} `.repeat(16),
  };
  seenRequests.set(`req-${msg.id}`, entry);
  return seenRequests.size;
}

parentPort.on('message', (msg) => {
  parentPort.postMessage({ id: msg.id, count: tally(msg) });
});
