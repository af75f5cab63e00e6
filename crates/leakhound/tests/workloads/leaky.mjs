// A --workload test module (ESM): every call keeps ~200 B in a module-level list.
const kept = [];
export default async function leaky() {
  kept.push({ at: Date.now(), payload: `item-${kept.length}` });
}
