// No leak, but heavy allocation: every request builds and throws away a large structure
// (the seed's getItemAssets pattern).
const serve = require('./_serve');
serve('ok-alloc', (req, seq) => {
  const rows = [];
  for (let i = 0; i < 400; i++) rows.push({ i, label: `row-${i}-${seq}`, cells: [i, i + 1, i + 2] });
  return rows.filter((r) => r.i % 97 === 0).length;
});
