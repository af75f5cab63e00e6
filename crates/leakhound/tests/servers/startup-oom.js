// Builds a big lookup table before it listens: ~400 MB of strings, far more than leakhound's
// default 128 MB heap. It dies of "JavaScript heap out of memory" before it ever listens.
'use strict';
const http = require('http');
const table = new Map();
for (let i = 0; i < 4e6; i++) {
  table.set('key-' + i, { id: i, label: 'entry number ' + i + ' '.repeat(40) });
}
http.createServer((req, res) => res.end(String(table.size))).listen(Number(process.env.PORT));
