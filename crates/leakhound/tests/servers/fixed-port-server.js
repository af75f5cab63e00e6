// Ignores $PORT: listens on the port in FIXED_PORT (standing in for a hard-coded 3456), says
// so the way apps do, and answers every request with a small constant body (no leak).
'use strict';
const http = require('http');
const port = Number(process.env.FIXED_PORT);
http
  .createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end('{"ok":true}');
  })
  .listen(port, '127.0.0.1', () => console.log(`listening on http://localhost:${port}`));
