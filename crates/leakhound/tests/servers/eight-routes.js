// Eight routes, for "which route leaks". By default POST /orders retains an array of 30 numbers
// per request (~300 B: node --expose-gc measures 295 B/push) and GET /search allocates ~200 KB
// per request that it does not keep. LEAKS="/orders:30,/cart:12" sets the leaking paths and
// their array lengths (~10 B per element).
'use strict';
const http = require('http');
const port = Number(process.env.PORT || 3000);
const leaks = new Map(
  (process.env.LEAKS || '/orders:30')
    .split(',')
    .filter(Boolean)
    .map((s) => s.split(':'))
    .map(([p, n]) => [p, Number(n)]),
);
const kept = [];
let seq = 0;
const routes = {
  '/users': () => ({ users: ['ada', 'grace', 'linus'] }),
  '/users/1': () => ({ id: 1, name: 'ada' }),
  '/orders': () => ({ order: seq }),
  '/products': () => ({ products: [1, 2, 3].map((i) => ({ id: i, price: i * 10 })) }),
  '/search': () => {
    // Heavy allocation, nothing kept.
    const rows = [];
    for (let i = 0; i < 2000; i++) rows.push({ i, name: `item-${i}`, tags: ['a', 'b'] });
    return { hits: JSON.stringify(rows).length };
  },
  '/health': () => ({ ok: true }),
  '/cart': () => ({ items: seq % 7 }),
  '/stats': () => ({ requests: seq, kept: kept.length }),
};
http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seq += 1;
      const route = routes[req.url];
      if (!route) {
        res.writeHead(404);
        return res.end();
      }
      const n = leaks.get(req.url);
      if (n) kept.push(new Array(n).fill(seq));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(route()));
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`eight-routes listening on ${port}`));
