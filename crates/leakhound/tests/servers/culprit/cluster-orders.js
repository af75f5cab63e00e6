// A cluster whose workers run another file: the primary forks WORKERS (2) workers that run
// orders-worker.js (`cluster.setupPrimary({ exec })`) and serve PORT together. The leak is in
// the worker's file: every order is kept in `recentOrders`, which nothing trims. The line to
// change is the `recentOrders.set(` in orders-worker.js, not anything in this file.
// Run: PORT=3000 node cluster-orders.js
'use strict';
const cluster = require('node:cluster');
const path = require('node:path');

const WORKERS = Number(process.env.WORKERS || 2);

cluster.setupPrimary({ exec: path.join(__dirname, 'orders-worker.js') });
for (let i = 0; i < WORKERS; i++) cluster.fork();
cluster.on('exit', (worker, code, signal) => {
  console.log(`worker ${worker.process.pid} exited (${signal || code}); forking a new one`);
  cluster.fork();
});
