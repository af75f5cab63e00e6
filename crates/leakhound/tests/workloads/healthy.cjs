// A --workload test module (CommonJS): every call allocates ~8 KB of garbage and keeps nothing.
module.exports = async function healthy() {
  const a = [];
  for (let i = 0; i < 100; i += 1) a.push({ i, s: `item-${i}` });
  return a.length;
};
