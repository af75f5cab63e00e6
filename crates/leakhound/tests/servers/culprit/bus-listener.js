// A listener leak through an EventEmitter: every request registers a `config:reload`
// listener on a module-scope bus and never removes it. The heap holds the listeners in
// `bus._events['config:reload']`, a field the app never names; the line to change is the
// `bus.on(` inside the handler. Run: PORT=3000 node bus-listener.js
'use strict';
const http = require('http');
const { EventEmitter } = require('events');

const bus = new EventEmitter();
bus.setMaxListeners(0);

function handle(req, res) {
  const seen = { url: req.url, at: Date.now(), note: `request ${Math.random()}`.repeat(8) };
  bus.on('config:reload', () => {
    seen.reloaded = Date.now();
  });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

http.createServer(handle).listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
  console.log(`bus-listener listening on ${process.env.PORT || 3000}`);
});
