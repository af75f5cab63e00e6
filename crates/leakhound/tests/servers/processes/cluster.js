// A cluster: the primary forks WORKERS workers (2 by default) and forks a new one whenever
// one exits (as production supervisors do, e.g. after an out-of-memory crash); the workers
// serve PORT with handler.js (LEAK=1: the workers leak; LEAK=0: healthy).
// RESTART=0: no restart handler (a cluster whose dead workers stay dead; the primary lives on,
// as one with work of its own does, rather than exiting with its last worker). STALL_MS: each new
// worker is stopped (SIGSTOP) that long right after its fork, as a starved process on a
// loaded machine starts late: its inspector banner comes seconds after the fork.
// OOM_FIRST=1: the first worker runs out of memory as it starts, before anything listens, and
// the others are forked only once it died: the port opens after its death, so leakhound (which
// attaches once the port is open) never meets that worker alive. CRASH_FIRST=1: the same, but
// the first worker throws as it starts (a bad config), exit code 1.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

const WORKERS = Number(process.env.WORKERS || 2);
const STALL_MS = Number(process.env.STALL_MS || 0);
const OOM_FIRST = process.env.OOM_FIRST === '1';
const CRASH_FIRST = process.env.CRASH_FIRST === '1';

if (cluster.isPrimary) {
  let doomed = OOM_FIRST
    ? cluster.fork({ OOM_NOW: '1' })
    : CRASH_FIRST
      ? cluster.fork({ CRASH_NOW: '1' })
      : null;
  for (let i = 0; i < (doomed ? 0 : WORKERS); i++) cluster.fork();
  if (process.env.RESTART === '0') setInterval(() => {}, 1000);
  cluster.on('exit', (worker, code, signal) => {
    if (worker === doomed) {
      doomed = null;
      // The rest of the workers (the restart below forks its replacement).
      for (let i = 1; i < WORKERS; i++) cluster.fork();
    }
    if (process.env.RESTART === '0') {
      console.log(`worker ${worker.process.pid} exited (${signal || code}); not restarted`);
      return;
    }
    console.log(`worker ${worker.process.pid} exited (${signal || code}); forking a new one`);
    const next = cluster.fork();
    if (STALL_MS > 0) {
      process.kill(next.process.pid, 'SIGSTOP');
      setTimeout(() => {
        try {
          process.kill(next.process.pid, 'SIGCONT');
        } catch (e) {
          // gone already
        }
      }, STALL_MS);
    }
  });
} else if (process.env.CRASH_NOW === '1') {
  throw new Error('no config at /etc/app.json');
} else if (process.env.OOM_NOW === '1') {
  const kept = [];
  for (;;) kept.push('x'.repeat(1000) + kept.length);
} else {
  http.createServer(require('./handler')).listen(Number(process.env.PORT || 3000), () => {
    console.log(`worker ${process.pid} listening on ${process.env.PORT}`);
  });
}
