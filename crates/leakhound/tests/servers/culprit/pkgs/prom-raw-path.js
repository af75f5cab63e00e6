// A leak through prom-client: the counter and histogram are labelled with the raw `req.url`,
// which carries an id, so every request adds a new label set that the registry keeps forever
// (`hashMap` inside each metric). The lines to change: the `path` label of the `.inc(` and
// `.observe(` calls in the handler (label by the route template, `/orders/:id`, not by the
// path).
// Run: PORT=3000 node prom-raw-path.js
'use strict';
const http = require('http');
const client = require('prom-client');

const httpRequests = new client.Counter({
  name: 'http_requests_total',
  help: 'Requests by path',
  labelNames: ['method', 'path'],
});
const httpDuration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Latency by path',
  labelNames: ['method', 'path'],
});

let seq = 0;
function handle(req, res) {
  const start = process.hrtime.bigint();
  if (req.url === '/metrics') {
    return client.register.metrics().then((m) => res.end(m));
  }
  seq += 1;
  // Real clients ask for `/orders/<id>`; a bare `/` (leakhound's default load) gets an id too.
  const path = req.url === '/' ? `/orders/${seq}` : req.url;
  httpRequests.inc({ method: req.method, path });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  httpDuration.observe({ method: req.method, path }, secs);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

const server = http.createServer(handle).listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`prom-raw-path listening on ${server.address().port}`);
});
