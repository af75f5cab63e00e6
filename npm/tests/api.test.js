// Unit tests of the package's JS (no binary needed): run by crates/leakhound/tests/npm_package.rs
// with `node --test npm/tests/`.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { toArgs, run } = require('../leakhound/index.js');
const { describe, culpritLines, assertNoLeak, expectNoLeak } = require('../leakhound/test.js');
const { binaryPath, platformKey, PLATFORMS } = require('../leakhound/lib/binary.js');

test('options become the CLI flags one to one', () => {
  assert.deepStrictEqual(
    toArgs({
      maxDuration: '20s',
      heapMb: 256,
      path: '/api/data',
      method: 'POST',
      headers: ['Content-Type: application/json', 'X-Id: {{seq}}'],
      body: '{"a":1}',
      noAllocSites: true,
      verbose: false,
      port: undefined,
      command: ['node', 'server.js'],
      cwd: '/tmp',
      env: { A: '1' },
    }),
    [
      '--max-duration', '20s',
      '--heap-mb', '256',
      '--path', '/api/data',
      '--method', 'POST',
      '-H', 'Content-Type: application/json',
      '-H', 'X-Id: {{seq}}',
      '--body', '{"a":1}',
      '--no-alloc-sites',
    ],
  );
});

test('json is refused: the API owns stdout', async () => {
  assert.throws(() => toArgs({ json: 'out.json' }), /json/);
  await assert.rejects(run({ command: ['node', 'x.js'], json: '-' }), TypeError);
});

test('command must be a list of strings', async () => {
  await assert.rejects(run({ command: 'node server.js' }), /command/);
  await assert.rejects(run({ command: [] }), /command/);
});

const leak = {
  verdict: 'leak',
  leak_kind: 'js-heap',
  retained_bytes_per_request: 944,
  evidence: ['retained heap grew 8.6 MB over 9,565 requests'],
  suspects: [
    {
      title: '9565 {result, body} objects held by responseCache (Map)',
      bytes: 12 * 1024 * 1024,
      path: ['global', 'a (Object)', 'b (Object)', 'responseCache (Map)', 'table', '(array)'],
      source: [{ kind: 'grows', location: 'server.js:48', code: 'responseCache.set(k, v);' }],
    },
  ],
  alloc_survivors: [{ function: 'processData', location: 'server.js:30', bytes: 7 * 1024 * 1024 }],
};

test('the failure message holds the verdict, the evidence and the culprit', () => {
  const m = describe(leak);
  assert.match(m, /^leakhound: verdict leak \(js-heap\), 944 B retained per request/);
  assert.match(m, /evidence:\n  retained heap grew 8\.6 MB/);
  assert.match(m, /suspect: 9565 \{result, body\} objects held by responseCache \(Map\) \(12\.0 MiB\)/);
  assert.match(m, /held by: … > b \(Object\) > responseCache \(Map\) > table > \(array\)/);
  assert.match(m, /grows at server\.js:48: responseCache\.set/);
  assert.match(m, /allocated by: processData at server\.js:30 \(7\.0 MiB\)/);
  assert.strictEqual(culpritLines(leak)[0].startsWith('suspect:'), true);
});

test('assertNoLeak passes no-leak and throws an AssertionError otherwise', () => {
  assertNoLeak({ verdict: 'no-leak', evidence: [] });
  expectNoLeak({ verdict: 'no-leak', evidence: [] });
  assert.throws(() => assertNoLeak(leak), (e) => e.name === 'AssertionError' && /processData/.test(e.message));
  assert.throws(
    () => expectNoLeak({ verdict: 'inconclusive', reason: 'too few rounds', evidence: [] }),
    /reason: too few rounds/,
  );
  assert.throws(() => assertNoLeak(undefined), TypeError);
});

test('a missing platform package is named, with the way to get it', () => {
  const saved = process.env.LEAKHOUND_BINARY;
  delete process.env.LEAKHOUND_BINARY;
  try {
    const key = platformKey();
    assert.throws(
      () => binaryPath(),
      (e) =>
        e.exitCode === 2 &&
        (PLATFORMS.includes(key)
          ? e.message ===
            `leakhound: no binary for ${key}: the optional dependency @leakhound/${key} is not installed (npm install --include=optional, or cargo install leakhound)`
          : e.message.includes(`no @leakhound/${key} package`)),
    );
    process.env.LEAKHOUND_BINARY = '/no/such/leakhound';
    assert.throws(() => binaryPath(), /LEAKHOUND_BINARY=\/no\/such\/leakhound: no such file/);
  } finally {
    if (saved === undefined) delete process.env.LEAKHOUND_BINARY;
    else process.env.LEAKHOUND_BINARY = saved;
  }
});
