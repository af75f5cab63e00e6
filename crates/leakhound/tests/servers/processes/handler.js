// The request handler the process-shape fixtures share. With LEAK=1 every request leaves a
// ~0.5 KB record in `kept` (PAD bytes of padding, 400 by default), which nothing ever
// empties; with LEAK=0 the record is dropped.
'use strict';

const LEAK = process.env.LEAK !== '0';
const PAD = Number(process.env.PAD || 400);
const kept = [];
let seq = 0;

function rememberRequest(url) {
  seq += 1;
  const record = JSON.stringify({ seq, url, at: Date.now(), pad: 'x'.repeat(PAD) });
  if (LEAK) kept.push(record);
  return record.length;
}

module.exports = function handle(req, res) {
  const n = rememberRequest(req.url);
  const body = JSON.stringify({ ok: true, pid: process.pid, n });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
