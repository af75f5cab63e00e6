// A leak through express-session's default MemoryStore: `saveUninitialized: true` saves a
// session for every request, and a client that never sends the cookie back (a load balancer
// health check, a crawler, leakhound's default load) starts a new one each time. MemoryStore
// keeps them in `store.sessions` and only drops one when its cookie expires, a day later.
// The line to change: the `session({` call below (pass a `store:` with expiry, e.g.
// connect-redis or memorystore, and `saveUninitialized: false`).
// Run: PORT=3000 node express-session-store.js
'use strict';
const express = require('express');
const session = require('express-session');

const app = express();
app.use(session({ secret: 'leakhound-test', resave: false, saveUninitialized: true, cookie: { maxAge: 86400000 } }));

app.get('*', (req, res) => {
  req.session.visits = (req.session.visits || 0) + 1;
  req.session.cart = { items: [{ sku: `sku-${Math.random()}`, qty: 1 }], note: 'x'.repeat(1500) };
  res.send('ok');
});

const port = Number(process.env.PORT || 0);
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`express-session-store listening on ${server.address().port}`);
});
