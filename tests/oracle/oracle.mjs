// DevTools' own heap snapshot algorithm (devtools-frontend@138048f via heap-snapshot-toolkit),
// used by crates/leakhound/tests/heap_oracle.rs as the oracle for retained sizes and classes.
// Usage: node oracle.mjs FILE  ->  JSON on stdout
// ORACLE_SAMPLE=N lists every Nth node only (big files; `sample_step` says which).
import { createReadStream } from 'node:fs';
import { parse } from 'heap-snapshot-toolkit';

const s = await parse(createReadStream(process.argv[2], 'utf-8'));
const nfc = s.nodeFieldCount;
const step = Math.max(1, Number(process.env.ORACLE_SAMPLE || 1));
const nodes = [];
for (let i = 0; i < s.nodeCount; i += step) {
  const node = s.createNode(i * nfc);
  nodes.push([node.id(), s.retainedSizes[i], node.selfSize(), s.nodeDistances[i], node.className()]);
}
const byName = {};
const aggs = s.getAggregatesByClassKey(false, 'oracle');
for (const key of Object.keys(aggs)) {
  const a = aggs[key];
  const t = byName[a.name] ?? (byName[a.name] = { count: 0, self: 0, retained: 0 });
  t.count += a.count; t.self += a.self; t.retained += a.maxRet;
}
process.stdout.write(JSON.stringify({ total: s.totalSize, node_count: s.nodeCount, sample_step: step, nodes, classes: byName }));
