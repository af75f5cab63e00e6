#!/usr/bin/env bash
# Size of the HTML report: a real leaky run, and the same run padded to the producer limits
# (2000 GC events, 120 rounds, 12+12 allocation sites, 10 suspects). Prints bytes and render time.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p leakhound
bin=target/release/leakhound
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
$bin run --max-duration 20s --idle 1s --json "$out/leaky.json" -- node examples/leaky-server.js >/dev/null 2>&1 || true
python3 - "$out/leaky.json" "$out/full.json" <<'PY'
import json, sys, random
d = json.load(open(sys.argv[1]))
d["gc_events"] = [{"t_s": i * 0.01, "collector": "Mark-Compact" if i % 15 == 0 else "Scavenge",
                   "before_mb": 20 + random.random() * 10, "after_mb": 10 + random.random() * 5,
                   "pause_ms": 1.0, "freed_share": random.random()} for i in range(2000)]
d["rounds"] = [{"t_s": i * 0.5, "requests_per_second": 6000 + random.random() * 500,
                "p50_ms": 2 + random.random(), "p99_ms": 9 + random.random()} for i in range(120)]
site = lambda i: {"function": f"fn{i}", "location": f"src/app/module{i}.js:{i*10}", "bytes": 10**6 // (i + 1), "share": 1 / (i + 2)}
d["alloc_all"] = [site(i) for i in range(12)]
d["alloc_survivors"] = [site(i) for i in range(12)]
d["suspects"] = [{"title": f"Map #{i}", "bytes": 10**6, "percent": 5.0, "path": ["(GC roots)", "global", "cache", f"k{i}"]} for i in range(10)]
json.dump(d, open(sys.argv[2], "w"))
PY
for f in leaky full; do
  s=$(date +%s%N)
  $bin report "$out/$f.json" -o "$out/$f.html" 2>/dev/null
  e=$(date +%s%N)
  echo "$f: $(wc -c < "$out/$f.html") bytes HTML, rendered in $(( (e - s) / 1000000 )) ms (incl. process start)"
done
