// A leak through DataLoader: the loader is created once at module scope, so its cache (the
// `_cacheMap` inside it) keeps every user it ever loaded, and each request asks for a new id.
// DataLoader's cache is meant to live for one request. The line to change: the module-scope
// `new DataLoader(` (create the DataLoader per request, or pass `{ cache: false }`).
// Run: PORT=3000 node dataloader-module.js
'use strict';
const http = require('http');
const DataLoader = require('dataloader');

async function batchUsers(ids) {
  return ids.map((id) => ({ id, name: `user-${id}`, bio: `bio of ${id} `.repeat(20), roles: ['reader'] }));
}

const userLoader = new DataLoader(batchUsers);

let seq = 0;
function handle(req, res) {
  seq += 1;
  userLoader.load(`u${seq}`).then((user) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: user.id }));
  });
}

const server = http.createServer(handle).listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`dataloader-module listening on ${server.address().port}`);
});
