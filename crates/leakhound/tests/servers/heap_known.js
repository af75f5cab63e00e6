// Writes a heap snapshot with known content to process.argv[2]. Used by tests/heap_*.rs.
'use strict';
const v8 = require('v8');
class KnownThing { constructor(i) { this.index = i; this.label = 'thing'; } }
const holder = new Map();
for (let i = 0; i < 1000; i++) holder.set(i, new KnownThing(i));
class WeakKey { constructor() { this.k = 1; } }
class WeakValue { constructor() { this.v = 2; } }
const wkey = new WeakKey();
const wm = new WeakMap();
wm.set(wkey, new WeakValue());
function makeClosure() { const captured = { capturedPayload: 'x'.repeat(10) }; return function heldClosure() { return captured; }; }
const closure = makeClosure();
const cons = 'leakhound-cons-left-part-0123456789' + String(Date.now()).slice(0, 0) + 'leakhound-cons-right-part-abcdefghij';
globalThis.__keep = { holder, wm, wkey, closure, cons };
v8.writeHeapSnapshot(process.argv[2]);
