// Writes a heap snapshot holding 5000 distinct classes to process.argv[2], so that
// `heap summary --top 100000` prints far more than a pipe holds (64 KiB): used by
// tests/cli_grammar.rs to close the pipe under it (`| head -2`).
'use strict';
const keep = [];
for (let i = 0; i < 5000; i++) {
  const C = new Function(`return class ManyClass${i} { constructor() { this.v = ${i}; } }`)();
  keep.push(new C());
}
globalThis.keep = keep;
require('v8').writeHeapSnapshot(process.argv[2]);
