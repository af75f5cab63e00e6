// A --workload test module (CommonJS) for --concurrency: every call waits a millisecond (so
// calls overlap), allocates ~1 KB of garbage and keeps nothing. The most calls it saw in flight
// at once go to INFLIGHT_FILE, when set.
const { writeFileSync } = require('node:fs');

let inFlight = 0;
let most = 0;

module.exports = async function overlappingHealthy() {
  inFlight += 1;
  if (inFlight > most) {
    most = inFlight;
    if (process.env.INFLIGHT_FILE) writeFileSync(process.env.INFLIGHT_FILE, String(most));
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
  const garbage = `${'x'.repeat(1000)}${inFlight}`;
  inFlight -= 1;
  return garbage.length;
};
