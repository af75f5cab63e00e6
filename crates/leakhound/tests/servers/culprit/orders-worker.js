// The worker of cluster-orders.js: an order service that remembers every order it priced
// in `recentOrders`, keyed by an id that never repeats, and never forgets one.
'use strict';
const http = require('node:http');

const recentOrders = new Map();
let seq = 0;

function priceOrder(url) {
  seq += 1;
  const id = `${process.pid}-${seq}`;
  const order = {
    id,
    url,
    lines: [{ sku: `sku-${seq % 97}`, qty: 1 + (seq % 3) }],
    note: `order ${id} for ${url} `.repeat(24),
  };
  order.total = order.lines.reduce((t, l) => t + l.qty * 9.5, 0);
  recentOrders.set(id, order);
  return order;
}

http
  .createServer((req, res) => {
    const order = priceOrder(req.url);
    const body = JSON.stringify({ id: order.id, total: order.total });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    console.log(`orders worker ${process.pid} listening on ${process.env.PORT}`);
  });
