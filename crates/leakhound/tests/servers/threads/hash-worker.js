// A worker of pool-server.js: hashes what it gets and keeps nothing.
'use strict';
const { parentPort } = require('worker_threads');
const crypto = require('crypto');

parentPort.on('message', ({ id, path }) => {
  const scratch = `${path}:${id}`.repeat(20);
  const digest = crypto.createHash('sha256').update(scratch).digest('hex');
  parentPort.postMessage({ id, digest });
});
