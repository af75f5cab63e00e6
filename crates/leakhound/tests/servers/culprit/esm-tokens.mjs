// An ES module service that remembers every token it issues in a module-scope Set and
// never forgets one. Run: PORT=3000 node esm-tokens.mjs
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const issued = new Set();

function issue(req) {
  const token = { id: randomUUID(), path: req.url, at: Date.now() };
  issued.add(token);
  return token.id;
}

http
  .createServer((req, res) => {
    const id = issue(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, count: issued.size }));
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    console.log(`esm-tokens listening on ${process.env.PORT || 3000}`);
  });
