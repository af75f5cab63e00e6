// Memory outside the JS heap: every 4th request keeps a TLS secure context's native handle.
// OpenSSL allocates each context (~16 KB) with malloc, which neither the JS heap nor
// `external` accounts for; the JS side of each handle is a few dozen bytes. RSS grows, the
// heap and external memory barely move.
'use strict';
const http = require('node:http');
const tls = require('node:tls');

const contexts = [];
let seq = 0;

http
  .createServer((req, res) => {
    seq += 1;
    if (seq % 4 === 0) contexts.push(tls.createSecureContext().context);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  })
  .listen(Number(process.env.PORT || 3000), () => console.log(`listening on ${process.env.PORT}`));
