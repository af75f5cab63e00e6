// memlab's comparable task: parse the snapshot and build its graph with dominators and
// retained sizes (getFullHeapFromFile), then print the total retained size of the root.
'use strict';
const path = require('path');
const { getFullHeapFromFile } = require(path.join(__dirname, 'out/memlab/node_modules/@memlab/heap-analysis'));
(async () => {
  const heap = await getFullHeapFromFile(process.argv[2]);
  let total = 0;
  heap.nodes.forEach((n) => { total += n.self_size; });
  console.log(`memlab: ${heap.nodes.length} nodes, ${total} bytes`);
})().catch((e) => { console.error(e); process.exit(1); });
