// node:test: the server must not leak under load.
const { test } = require('node:test');
const path = require('node:path');
const { run } = require('leakhound');
const { assertNoLeak } = require('leakhound/test');

const server = process.env.SERVER || path.join(__dirname, '..', '..', 'fixed-server.js');

test('the API does not leak memory under load', { timeout: 120_000 }, async () => {
  const result = await run({ command: ['node', server], maxDuration: '30s' });
  assertNoLeak(result);
});
