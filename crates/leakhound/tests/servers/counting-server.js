// Test server for `leakhound load`: counts requests and connections, remembers what varied
// (paths, the X-Id header, bodies) and reports it all on GET /stats (not counted itself).
// Any other request gets 200 with a small JSON body; /chunked answers with a chunked body;
// /status/NNN answers with that status.
'use strict';
const http = require('http');

const PORT = Number(process.env.PORT || 3000);
const s = {
  requests: 0,
  connections: 0,
  open: 0,
  max_open: 0,
  by_path: {},
  by_method: {},
  paths: new Set(),
  ids: new Set(),
  bodies: new Set(),
};

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    const body = JSON.stringify({
      requests: s.requests,
      connections: s.connections,
      max_open: s.max_open,
      by_path: s.by_path,
      by_method: s.by_method,
      distinct_paths: s.paths.size,
      distinct_ids: s.ids.size,
      distinct_bodies: s.bodies.size,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  countConnection(req.socket);
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    s.requests += 1;
    const path = req.url.split('?')[0];
    const key = path.startsWith('/t/') ? '/t/*' : path;
    s.by_path[key] = (s.by_path[key] || 0) + 1;
    s.by_method[req.method] = (s.by_method[req.method] || 0) + 1;
    s.paths.add(req.url);
    if (req.headers['x-id']) s.ids.add(req.headers['x-id']);
    if (chunks.length) s.bodies.add(Buffer.concat(chunks).toString());
    const m = /^\/status\/(\d{3})$/.exec(path);
    if (m) {
      res.writeHead(Number(m[1]), { 'content-type': 'text/plain' });
      res.end('status');
    } else if (path === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one,');
      res.end('part two');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }
  });
});
// A connection counts from its first request that is not /stats, so the test's own /stats
// query does not show up in the figures.
function countConnection(sock) {
  if (sock.counted) return;
  sock.counted = true;
  s.connections += 1;
  s.open += 1;
  if (s.open > s.max_open) s.max_open = s.open;
  sock.on('close', () => { s.open -= 1; });
}
server.keepAliveTimeout = 60000;
server.listen(PORT, '127.0.0.1');
