// A bearer-auth service that keeps every request of every user: the `activity` Map gets one
// entry per user (a handful, set once each), and each entry's array grows on every request.
// The line to change is the `push` that grows the per-user array, not the `set` above it.
// Run: PORT=3000 node bearer-activity.js
'use strict';
const http = require('http');

const activity = new Map();
let seq = 0;

function userOf(req) {
  const auth = req.headers.authorization || '';
  if (auth.startsWith('Bearer ')) return auth.slice(7);
  seq += 1;
  return `user-${seq % 8}`;
}

function handle(req, res) {
  const user = userOf(req);
  if (!activity.has(user)) activity.set(user, []);
  activity.get(user).push({ url: req.url, at: Date.now(), agent: `${req.headers['user-agent']} ${seq}` });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ user, seen: activity.get(user).length }));
}

http.createServer(handle).listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
  console.log(`bearer-activity listening on ${process.env.PORT || 3000}`);
});
