// A `--load-cmd` driver for the tests: a plain HTTP client loop (node's http module, 8 requests
// in flight over keep-alive) against $URL, printing `leakhound:count N` every 100 requests
// (N cumulative) unless NO_COUNT is set. It writes its pid to PIDFILE, when given, so a test can
// check it is gone after the run; it never ends on its own.
'use strict';
const http = require('http');
const fs = require('fs');

if (process.env.PIDFILE) fs.appendFileSync(process.env.PIDFILE, `${process.pid}\n`);
const url = new URL(process.env.URL);
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
let done = 0;

function one() {
  const req = http.get({ host: url.hostname, port: url.port, path: '/', agent }, (res) => {
    res.resume();
    res.on('end', () => {
      done += 1;
      if (done % 100 === 0 && !process.env.NO_COUNT) console.log(`leakhound:count ${done}`);
      setImmediate(one);
    });
  });
  req.on('error', () => setTimeout(one, 50));
}
for (let i = 0; i < 8; i += 1) one();
