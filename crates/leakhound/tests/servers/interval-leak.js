// A leak driven by time: a timer keeps ~4.5 KB every 100 ms (~45 KB/s) whether or not a request
// comes; requests themselves retain nothing.
'use strict';
const http = require('http');
const port = Number(process.env.PORT || 3000);
const history = [];
setInterval(() => history.push(new Array(560).fill(Date.now())), 100);
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, kept: history.length }));
  })
  .listen(port, '127.0.0.1', () => console.log(`interval-leak listening on ${port}`));
