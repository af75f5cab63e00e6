// Vitest: the server must not leak under load.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { run } from 'leakhound';
import { expectNoLeak } from 'leakhound/test';

const here = path.dirname(fileURLToPath(import.meta.url));
const server = process.env.SERVER || path.join(here, '..', '..', 'fixed-server.js');

test('the API does not leak memory under load', async () => {
  const result = await run({ command: ['node', server], maxDuration: '30s' });
  expectNoLeak(result);
}, 120_000);
