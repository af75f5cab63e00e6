// Keeps every request's session in a module-scope Map, about 160 KB each: with a 48 MB old
// space it dies of "JavaScript heap out of memory" within a few hundred requests, under
// leakhound's warm-up. The line to change is the `sessionStore.set(...)` in `remember`.
'use strict';
const http = require('http');

const sessionStore = new Map();
let served = 0;

function remember(id) {
  sessionStore.set('s' + id, { id, rows: new Array(20000).fill(id), at: Date.now() });
}

http
  .createServer((req, res) => {
    remember(served++);
    res.end(String(sessionStore.size));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
