// The worker of leak-server.js: an audit log that is never trimmed.
'use strict';
const { parentPort } = require('worker_threads');

const auditLog = [];
parentPort.on('message', ({ id, path }) => {
  const entry = { id, path, at: Date.now(), note: `request ${id} to ${path}`.padEnd(400, '.') };
  auditLog.push(entry);
  parentPort.postMessage({ id, n: auditLog.length });
});
