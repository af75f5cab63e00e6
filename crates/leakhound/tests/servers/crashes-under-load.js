// Serves 300 requests, then exits with code 1 (an unhandled error, not out of memory): the
// run must say the target failed, not "inconclusive". Plain `http`.
'use strict';
const http = require('http');

let served = 0;
http
  .createServer((req, res) => {
    served += 1;
    if (served > 300) {
      console.error('Error: connection pool exhausted');
      process.exit(1);
    }
    res.end('{"ok":true}');
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1', () => console.log('crashes-under-load listening'));
