// Writes heap snapshots with known inspection findings to the directory process.argv[2]:
// s1..s3.heapsnapshot. Known: DUP copies of one runtime-built string, a Bus emitter with
// LISTENERS listeners on `config:reload`, and a Map, an array and an object-as-map that grow
// by GROW entries between snapshots while a fixed Set does not. Used by tests/heap_inspect.rs.
'use strict';
const v8 = require('v8');
const path = require('path');
const { EventEmitter } = require('events');
const DUP = 300, LISTENERS = 25, GROW = 200;
const dir = process.argv[2];

class Bus extends EventEmitter {}
const bus = new Bus();
bus.setMaxListeners(0);
for (let i = 0; i < LISTENERS; i++) bus.on('config:reload', () => i);
// Each join builds a new flat string with the same text: DUP copies, one value.
const parts = ['leakhound-', 'duplicated-', 'value'];
const copies = [];
for (let i = 0; i < DUP; i++) copies.push(parts.join(''));

class Entry { constructor(i) { this.i = i; } }
const grownCache = new Map();
const grownList = [];
const grownDict = {};
const fixedSet = new Set([new Entry(-1), new Entry(-2), new Entry(-3), new Entry(-4), new Entry(-5)]);
let n = 0;
function grow() {
  for (let k = 0; k < GROW; k++, n++) {
    const e = new Entry(n);
    grownCache.set('key-' + n, e);
    grownList.push(e);
    grownDict['k' + n] = e;
  }
}
globalThis.__keep = { bus, copies, grownCache, grownList, grownDict, fixedSet };
for (let s = 1; s <= 3; s++) {
  grow();
  v8.writeHeapSnapshot(path.join(dir, `s${s}.heapsnapshot`));
}
