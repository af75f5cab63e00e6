// express-session's MemoryStore in a cluster: the primary forks WORKERS (2) workers and each
// runs the Express app of express-session-store.js, so every worker keeps its own sessions
// in its own MemoryStore. The line to change is that file's `app.use(session(` call.
// Run: PORT=3000 node cluster-session.js
'use strict';
const cluster = require('node:cluster');

const WORKERS = Number(process.env.WORKERS || 2);

if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    console.log(`worker ${worker.process.pid} exited (${signal || code}); forking a new one`);
    cluster.fork();
  });
} else {
  require('./express-session-store.js');
}
