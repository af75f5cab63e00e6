// A listener leak Node warns about: every request adds a `config:reload` listener on a
// module-scope `Bus` (an EventEmitter with the default limit of 10), so Node prints
// "MaxListenersExceededWarning: … 11 config:reload listeners added to [Bus]" once, and the
// listeners, with the closure over each request, pile up in `bus._events['config:reload']`.
// The line to change: the `bus.on(` inside the handler (subscribe once at module scope, or
// `bus.off` when the request ends). Run: PORT=3000 node emitter-listeners.js
'use strict';
const http = require('http');
const { EventEmitter } = require('events');

class Bus extends EventEmitter {}
const bus = new Bus();

function handle(req, res) {
  const seen = { url: req.url, at: Date.now(), note: `request ${Math.random()}`.repeat(8) };
  bus.on('config:reload', () => {
    seen.reloaded = Date.now();
  });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

const server = http.createServer(handle).listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`emitter-listeners listening on ${server.address().port}`);
});
