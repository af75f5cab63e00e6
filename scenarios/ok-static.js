// No leak: a big read-only table (~30 MB) built at start, only read afterwards.
const serve = require('./_serve');
const table = Array.from({ length: 150000 }, (_, i) => ({ id: i, name: `product-${i}`, tags: [`t${i % 7}`, `t${i % 11}`] }));
serve('ok-static', (req, seq) => table[seq % table.length].name);
