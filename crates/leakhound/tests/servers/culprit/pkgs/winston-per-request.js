// A leak through winston: the handler creates a logger per request with its own transport and
// never closes it. Each transport pipes from the logger and registers listeners on process
// (`exceptionHandlers`/`rejectionHandlers`), so nothing is ever freed. The line to change: the
// `winston.createLogger(` call inside the handler (create one logger at module scope and use
// `logger.child({ requestId })` per request).
// Run: PORT=3000 node winston-per-request.js
'use strict';
const http = require('http');
const winston = require('winston');
const { Writable } = require('stream');

// A sink that drops everything, so the test writes no log files.
const sink = new Writable({ write(_chunk, _enc, cb) { cb(); } });

let seq = 0;
function handle(req, res) {
  seq += 1;
  const logger = winston.createLogger({
    level: 'info',
    defaultMeta: { requestId: `req-${seq}`, path: req.url },
    transports: [new winston.transports.Stream({ stream: sink, handleExceptions: true, handleRejections: true })],
  });
  logger.info('handled', { url: req.url });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

const server = http.createServer(handle).listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`winston-per-request listening on ${server.address().port}`);
});
