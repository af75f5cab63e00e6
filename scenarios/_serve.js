// Shared by the scenarios: an HTTP server on 127.0.0.1:$PORT that calls `handle(req)` for
// every request except /health and answers with its (small) result as JSON.
'use strict';
const http = require('http');

module.exports = function serve(name, handle) {
  const port = Number(process.env.PORT || 3000);
  let seq = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seq += 1;
      Promise.resolve(handle(req, seq, chunks)).then((out) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, n: seq, out: out === undefined ? null : out }));
      });
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`${name} listening on ${port}`));
};
