// A launcher that forks the real server (`child_process.fork`) and only waits for it: the
// launcher does not serve, the forked child does.
'use strict';
const { fork } = require('node:child_process');

const child = fork(require('node:path').join(__dirname, 'server.js'));
child.on('exit', (code) => process.exit(code ?? 1));
