// A service behind a login, as most real ones are (issue 11, setup steps). POST /login with a
// JSON body {"user": NAME} answers {"access_token": TOKEN} and sets the cookie `sid`; both are
// signed, not stored, so logging in retains nothing. GET /items needs `Authorization: Bearer
// TOKEN` and leaks ~1 KB per request (a list of audit records nobody trims); GET /items/ID
// needs the token and retains nothing; GET /cart needs the `sid` cookie and leaks like /items;
// GET /health needs nothing; GET /stats counts the logins so far. Without credentials: 401.
// Plain `http`.
'use strict';
const http = require('http');
const crypto = require('crypto');

const SECRET = 'leakhound-test';
const sign = (kind, user) => crypto.createHmac('sha256', SECRET).update(`${kind}:${user}`).digest('hex').slice(0, 24);
const token = (kind, user) => `${kind}.${Buffer.from(user).toString('hex')}.${sign(kind, user)}`;
const check = (kind, t) => {
  const [k, u, s] = String(t || '').split('.');
  if (k !== kind || !u || !s) return null;
  const user = Buffer.from(u, 'hex').toString();
  return sign(kind, user) === s ? user : null;
};
const cookie = (req, name) => {
  for (const part of String(req.headers.cookie || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
};

const audit = [];
let seq = 0;
let logins = 0;

const answer = (res, status, body, headers = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
};

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const path = url.pathname;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (path === '/health') return answer(res, 200, { ok: true });
      if (path === '/stats') return answer(res, 200, { logins });
      if (path === '/login' && req.method === 'POST') {
        let body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString() || 'null');
        } catch (e) {
          body = null;
        }
        if (!body || typeof body.user !== 'string') return answer(res, 400, { error: 'user required' });
        logins += 1;
        return answer(res, 200, { access_token: token('tok', body.user), token_type: 'Bearer' }, {
          'Set-Cookie': `sid=${token('sid', body.user)}; Path=/; HttpOnly`,
        });
      }
      if (path === '/cart') {
        const user = check('sid', cookie(req, 'sid'));
        if (!user) return answer(res, 401, { error: 'no session' });
        seq += 1;
        audit.push({ user, seq, at: Date.now(), note: 'cart viewed '.repeat(60) + seq });
        return answer(res, 200, { user, items: [] });
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization || '');
      const user = bearer && check('tok', bearer[1]);
      if (path === '/items' || path.startsWith('/items/')) {
        if (!user) return answer(res, 401, { error: 'Unauthorized' });
        if (path === '/items') {
          seq += 1;
          audit.push({ user, seq, at: Date.now(), note: 'items listed '.repeat(60) + seq });
          return answer(res, 200, { items: [{ id: 1 }, { id: 2 }], page: url.searchParams.get('page') });
        }
        const id = Number(path.slice('/items/'.length));
        if (!Number.isInteger(id)) return answer(res, 404, { error: 'no such item' });
        return answer(res, 200, { id, name: `item ${id}` });
      }
      return answer(res, 404, { error: 'Not Found', path });
    });
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1', () => console.log('auth-service listening'));
