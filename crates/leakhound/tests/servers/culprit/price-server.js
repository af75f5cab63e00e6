// A leak inside a class defined in another file of the app: the handler calls `book.price()`,
// which pushes every quote onto `this.history`. The line to change is that push, in
// price-book.js. Run: PORT=3000 node price-server.js
'use strict';
const http = require('http');
const { PriceBook } = require('./price-book');

const book = new PriceBook([3, 5, 8, 13, 21]);
let n = 0;

http
  .createServer((req, res) => {
    n += 1;
    const quote = book.price(n, (n % 7) + 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ total: quote.total }));
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    console.log(`price-server listening on ${process.env.PORT || 3000}`);
  });
