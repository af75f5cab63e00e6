// Says it listens on 3456 but opens no socket leakhound can see (as an app whose server runs
// in a container or a detached process would): leakhound shows these lines and a --port hint.
'use strict';
console.log('loading routes...');
console.log('Server listening on http://localhost:3456');
setInterval(() => {}, 1000);
