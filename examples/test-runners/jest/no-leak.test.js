// Jest: the server must not leak under load.
const path = require('node:path');
const { run } = require('leakhound');
const { expectNoLeak } = require('leakhound/test');

const server = process.env.SERVER || path.join(__dirname, '..', '..', 'fixed-server.js');

test('the API does not leak memory under load', async () => {
  const result = await run({ command: ['node', server], maxDuration: '30s' });
  expectNoLeak(result);
}, 120_000);
