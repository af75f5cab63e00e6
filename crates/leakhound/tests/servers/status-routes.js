// Routes that answer what a misused service answers, as Express would (a small JSON error
// body): /bad 400 (a body the route rejects), /auth 401 (no credentials), /ok 200, /flaky 500
// to every tenth request and 200 to the others, anything else 404. Each answer allocates a little, like a framework's error handler. Plain `http`.
'use strict';
const http = require('http');

let flaky = 0;

const answer = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

http
  .createServer((req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    req.resume();
    req.on('end', () => {
      if (path === '/ok') return answer(res, 200, { ok: true, at: Date.now() });
      if (path === '/bad') return answer(res, 400, { error: 'Bad Request', message: 'body must be JSON' });
      if (path === '/auth') return answer(res, 401, { error: 'Unauthorized' });
      if (path === '/flaky') {
        flaky += 1;
        if (flaky % 10 === 0) return answer(res, 500, { error: 'Internal Server Error' });
        return answer(res, 200, { ok: true, n: flaky });
      }
      return answer(res, 404, { error: 'Not Found', path });
    });
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1', () => console.log('status-routes listening'));
