// Test server with two awkward worker threads: `spinner` busy-loops forever (its isolate can
// never run a forced GC), and `short-lived` counts the first 2000 requests then exits. The
// requests are answered by the main thread either way; nothing is kept.
'use strict';
const http = require('http');
const { Worker } = require('worker_threads');

const PORT = Number(process.env.PORT || 3000);
new Worker('setTimeout(() => { for (;;) {} }, 100)', { eval: true, name: 'spinner' });
let counter = new Worker(
  `const { parentPort } = require('worker_threads');
   let n = 0;
   parentPort.on('message', () => { if (++n >= 2000) process.exit(0); });`,
  { eval: true, name: 'short-lived' }
);
counter.on('exit', () => {
  counter = null;
});

http
  .createServer((req, res) => {
    if (counter) counter.postMessage(1);
    res.end('ok');
  })
  .listen(PORT, '127.0.0.1', () => console.log(`listening on ${PORT}`));
