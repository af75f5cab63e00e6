// `leakhound run --workload FILE`: imports FILE (CommonJS or ESM) and calls its default export
// over and over, CONCURRENCY calls at a time, counting finished calls where leakhound reads
// them over the inspector (the requests counter of its preload). A small HTTP server on PORT
// only tells leakhound the process is up; nothing else talks to it.
// `node workload.js --check FILE`: exit 2 with a message unless the default export is a function.
'use strict';
const { pathToFileURL } = require('url');
const path = require('path');

async function load(file) {
  const m = await import(pathToFileURL(path.resolve(file)).href);
  let f = m.default;
  if (f && typeof f === 'object' && typeof f.default === 'function') f = f.default;
  if (typeof f !== 'function') {
    process.stderr.write(`the default export is not a function (it is ${f === null ? 'null' : typeof f}); export default async function () { ... }\n`);
    process.exit(2);
  }
  return f;
}

async function main() {
  const [flag, file, n] = process.argv.slice(2);
  if (flag === '--check') {
    await load(file);
    return;
  }
  const f = await load(flag);
  const concurrency = Math.max(1, Number(file) || 1);
  void n;
  const k = Symbol.for('leakhound.requests');
  let done = 0;
  require('http').createServer((req, res) => res.end('workload\n')).listen(Number(process.env.PORT), '127.0.0.1', () => {
    const loop = async () => {
      for (;;) {
        await f();
        done += 1;
        globalThis[k] = done;
        // Let the event loop (timers, I/O, the inspector) run between calls.
        await new Promise(setImmediate);
      }
    };
    for (let i = 0; i < concurrency; i += 1) loop().catch((e) => { console.error(e); process.exit(1); });
  });
}
main().catch((e) => { console.error(e); process.exit(1); });
