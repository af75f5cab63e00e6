// Restarts `node $NODE_ARGS prom-app.js` whenever it exits (an out-of-memory crash loop),
// on the same PORT. Children stay in this process' group, so killing the group ends all.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const args = (process.env.NODE_ARGS || '').split(' ').filter(Boolean);
let restarts = 0;
function start() {
  const child = spawn(process.execPath, [...args, path.join(__dirname, 'prom-app.js')], {
    stdio: 'ignore',
    env: process.env,
  });
  child.on('exit', () => {
    restarts++;
    setTimeout(start, 50);
  });
}
start();
process.on('SIGTERM', () => process.exit(0));
