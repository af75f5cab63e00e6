// Test server for `leakhound attach`: a service leakhound did not start. Every request adds
// LEAK_BYTES (default 0: healthy) of strings to a module-level array nothing ever trims, and
// makes a little garbage. CHURN=N keeps a bounded cache of N entries it replaces. HANDLE_SIGUSR1=1 installs the app's own SIGUSR1 handler (so Node
// opens no inspector on SIGUSR1). GET /inspector answers whether its inspector is open.
'use strict';
const http = require('http');
const inspector = require('inspector');

const PORT = Number(process.env.PORT || 3000);
const LEAK_BYTES = Number(process.env.LEAK_BYTES || 0);
const sessions = [];
// CHURN=N: a bounded cache of N entries, one replaced per request: old-generation garbage,
// which makes V8 run major GCs by itself as a real service does.
const CHURN = Number(process.env.CHURN || 0);
const recent = new Array(CHURN);
let served = 0;

if (process.env.HANDLE_SIGUSR1 === '1') {
  process.on('SIGUSR1', () => console.log('the app handled SIGUSR1 itself'));
}

const server = http.createServer((req, res) => {
  if (req.url === '/inspector') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ open: inspector.url() !== undefined, served }));
    return;
  }
  served += 1;
  const garbage = Array.from({ length: 20 }, (_, i) => ({ i, s: `row-${i}-${served}` }));
  if (CHURN > 0) recent[served % CHURN] = { at: served, body: `entry-${served}`.padEnd(400, '.') };
  if (LEAK_BYTES > 0) {
    // A unique string of about LEAK_BYTES bytes (one-byte chars), kept forever.
    sessions.push(`${served}:`.padEnd(LEAK_BYTES, 'x') + served);
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true, n: garbage.length }));
});
server.listen(PORT, '127.0.0.1', () => console.log(`listening on ${PORT}`));
