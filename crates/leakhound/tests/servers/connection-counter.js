// Test server for connection shapes (`--no-keepalive`, `--abort`): counts the connections it
// accepts and the requests it reads, and the requests whose client went away before the
// response was sent (`cancelled`). GET /count reports them (not counted itself; a connection
// counts from its first other request). /slow answers
// after 5 ms, long enough for an aborting client's close to arrive first.
'use strict';
const http = require('http');

const PORT = Number(process.env.PORT || 3000);
const s = { connections: 0, requests: 0, cancelled: 0, finished: 0 };

const server = http.createServer((req, res) => {
  if (req.url === '/count') {
    const body = JSON.stringify(s);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (!req.socket.counted) {
    req.socket.counted = true;
    s.connections += 1;
  }
  s.requests += 1;
  res.on('error', () => {});
  res.on('close', () => {
    if (res.writableFinished) s.finished += 1;
    else s.cancelled += 1;
  });
  const answer = () => {
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  if (req.url === '/slow') setTimeout(answer, 5);
  else answer();
});
server.keepAliveTimeout = 60000;
server.listen(PORT, '127.0.0.1');
