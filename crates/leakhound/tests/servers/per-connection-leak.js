// Test server for `--no-keepalive`: a per-connection leak. Every socket is kept in a list with
// a little state of its own, and never dropped, so the heap grows with the connections opened,
// not with the requests: keep-alive load (a few connections per round) barely moves it, a new
// connection per request makes it grow by the same amount on every request.
'use strict';
const http = require('http');

const PORT = Number(process.env.PORT || 3000);
const sockets = [];

const server = http.createServer((req, res) => {
  if (req.socket.state) req.socket.state.requests += 1;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}');
});
server.on('connection', (s) => {
  s.state = { socket: s, opened: Date.now(), id: `conn-${sockets.length}`, requests: 0 };
  sockets.push(s.state);
});
server.listen(PORT, '127.0.0.1', () => console.log(`listening on ${PORT}`));
