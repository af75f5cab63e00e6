// A plain server on PORT with handler.js; `npm start` runs it (package.json).
'use strict';
const http = require('node:http');

http.createServer(require('./handler')).listen(Number(process.env.PORT || 3000), () => {
  console.log(`listening on ${process.env.PORT}`);
});
