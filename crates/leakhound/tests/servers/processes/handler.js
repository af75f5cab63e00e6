// The request handler the process-shape fixtures share. With LEAK=1 every request leaves a
// ~0.5 KB record in `kept`, which nothing ever empties; with LEAK=0 the record is dropped.
'use strict';

const LEAK = process.env.LEAK !== '0';
const kept = [];
let seq = 0;

function rememberRequest(url) {
  seq += 1;
  const record = JSON.stringify({ seq, url, at: Date.now(), pad: 'x'.repeat(400) });
  if (LEAK) kept.push(record);
  return record.length;
}

module.exports = function handle(req, res) {
  const n = rememberRequest(req.url);
  const body = JSON.stringify({ ok: true, pid: process.pid, n });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
