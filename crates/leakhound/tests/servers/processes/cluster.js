// A cluster: the primary forks WORKERS workers (2 by default) and forks a new one whenever
// one exits (as production supervisors do, e.g. after an out-of-memory crash); the workers
// serve PORT with handler.js (LEAK=1: the workers leak; LEAK=0: healthy).
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

const WORKERS = Number(process.env.WORKERS || 2);

if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    console.log(`worker ${worker.process.pid} exited (${signal || code}); forking a new one`);
    cluster.fork();
  });
} else {
  http.createServer(require('./handler')).listen(Number(process.env.PORT || 3000), () => {
    console.log(`worker ${process.pid} listening on ${process.env.PORT}`);
  });
}
