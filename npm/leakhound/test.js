// `leakhound/test`: assertions for test runners (node:test, Jest, Vitest, Mocha ...).
//
// They throw node's AssertionError, which every runner shows with its message: the verdict,
// the evidence lines leakhound gave, and the culprit (the first suspects with their retainer
// path and the allocation sites of what survived), so a failing CI run says where the leak is.
'use strict';
const { AssertionError } = require('assert');

const MB = 1024 * 1024;

function bytes(n) {
  if (typeof n !== 'number') return '';
  if (Math.abs(n) >= MB) return `${(n / MB).toFixed(1)} MiB`;
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

/** The culprit lines of a run result: suspects first, then surviving allocation sites. */
function culpritLines(result, max = 3) {
  const lines = [];
  for (const s of (result.suspects || []).slice(0, max)) {
    lines.push(`suspect: ${s.title} (${bytes(s.bytes)})`);
    if (Array.isArray(s.path) && s.path.length) {
      // The end of the retainer path names the holder; the way there from the root is noise.
      const tail = s.path.slice(-4).join(' > ');
      lines.push(`  held by: ${s.path.length > 4 ? '… > ' : ''}${tail}`);
    }
    for (const src of (s.source || []).slice(0, 2)) lines.push(`  ${src.kind} at ${src.location}: ${src.code}`);
  }
  for (const a of (result.alloc_survivors || []).slice(0, max)) {
    lines.push(`allocated by: ${a.function || '(anonymous)'} at ${a.location} (${bytes(a.bytes)})`);
  }
  return lines;
}

/** The whole failure message for a result. */
function describe(result) {
  const head = `leakhound: verdict ${result.verdict}` +
    (result.leak_kind && result.leak_kind !== 'none' ? ` (${result.leak_kind})` : '') +
    (typeof result.retained_bytes_per_request === 'number' && result.verdict === 'leak'
      ? `, ${bytes(result.retained_bytes_per_request)} retained per request`
      : '');
  const parts = [head];
  if (result.reason) parts.push(`reason: ${result.reason}`);
  const evidence = result.evidence || [];
  if (evidence.length) parts.push('evidence:', ...evidence.map((e) => `  ${e}`));
  const culprit = culpritLines(result);
  if (culprit.length) parts.push('culprit:', ...culprit.map((l) => `  ${l}`));
  return parts.join('\n');
}

function check(result, fn) {
  if (!result || typeof result !== 'object' || typeof result.verdict !== 'string') {
    throw new TypeError('leakhound/test: expected the result of run() (an object with a `verdict`)');
  }
  if (result.verdict !== 'no-leak') {
    throw new AssertionError({
      message: describe(result),
      actual: result.verdict,
      expected: 'no-leak',
      operator: 'assertNoLeak',
      stackStartFn: fn,
    });
  }
}

/** Throw an AssertionError unless the run's verdict is `no-leak`. */
function assertNoLeak(result) {
  check(result, assertNoLeak);
}

/** `expectNoLeak(await run(...))`: the same check, named for expect-style runners. */
function expectNoLeak(result) {
  check(result, expectNoLeak);
}

module.exports = { assertNoLeak, expectNoLeak, describe, culpritLines };
