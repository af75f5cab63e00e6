// A leak through axios: the handler registers a request interceptor on the shared axios
// instance for every request, and never ejects it. axios keeps each one in
// `axios.interceptors.request.handlers`, with the closure over the request's data. The line to
// change: the `axios.interceptors.request.use(` call inside the handler (register it once at
// module scope, or `eject` it after the call).
// Run: PORT=3000 node axios-interceptor.js
'use strict';
const http = require('http');
const axios = require('axios');

let seq = 0;
function handle(req, res) {
  seq += 1;
  const trace = { requestId: `req-${seq}`, path: req.url, started: Date.now(), tags: 'trace-'.repeat(40) };
  axios.interceptors.request.use((config) => {
    config.headers['x-request-id'] = trace.requestId;
    return config;
  });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

const server = http.createServer(handle).listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`axios-interceptor listening on ${server.address().port}`);
});
