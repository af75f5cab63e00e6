// Test server for `leakhound load`: accepts connections and reads requests, never answers.
'use strict';
const net = require('net');

const PORT = Number(process.env.PORT || 3000);
net.createServer((sock) => { sock.on('data', () => {}); sock.on('error', () => {}); })
  .listen(PORT, '127.0.0.1');
