// A --workload test module (ESM) for --concurrency: every call waits a millisecond (so calls
// overlap) and keeps a string (~450 B) in a module-level list. The most calls it saw in flight
// at once go to INFLIGHT_FILE, when set.
import { writeFileSync } from 'node:fs';

const kept = [];
let inFlight = 0;
let most = 0;

export default async function overlappingLeaky() {
  inFlight += 1;
  if (inFlight > most) {
    most = inFlight;
    if (process.env.INFLIGHT_FILE) writeFileSync(process.env.INFLIGHT_FILE, String(most));
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
  kept.push(`${'x'.repeat(1000)}${kept.length}`);
  inFlight -= 1;
}
