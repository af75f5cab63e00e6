#!/usr/bin/env bash
# Benchmark `leakhound heap summary` against memlab on ~200 MB and ~1 GB V8 heap snapshots.
#
#   bench/heap.sh            # generates bench/out/heap-{200mb,1gb}.heapsnapshot once, then times
#   RUNS=3 bench/heap.sh     # best of N runs per tool (default 1)
#   SKIP_MEMLAB=1 bench/heap.sh
#   HEAP_SNAPSHOTS="/elsewhere/a.heapsnapshot ..." bench/heap.sh   # time existing files instead
#
# leakhound task: parse + dominators + retained sizes + distances + class names + summary
# (`leakhound heap summary FILE --json /dev/null`).
# memlab task: `memlab analyze unbound-object`-free parse and dominator pass via its heap API
# (`getFullHeapFromFile`, which parses, builds the graph and computes dominators and retained
# sizes), the closest comparable task (bench/memlab-parse.js).
# Needs node and npm; memlab is installed into bench/out/memlab (PUPPETEER_SKIP_DOWNLOAD=1).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
RUNS=${RUNS:-1}

gen() { # HEAP_MB FILE
  if [ ! -s "$2" ]; then
    echo "generating $2 (heap ~$1 MB) ..." >&2
    node --max-old-space-size=12000 bench/heap-gen.js "$1" "$2" >&2
  fi
}
if [ -z "${HEAP_SNAPSHOTS:-}" ]; then
  gen 120 "$OUT/heap-200mb.heapsnapshot"
  gen 570 "$OUT/heap-1gb.heapsnapshot"
fi

cargo build --release -q -p leakhound
LH=target/release/leakhound

if [ -z "${SKIP_MEMLAB:-}" ] && [ ! -d "$OUT/memlab/node_modules/memlab" ]; then
  mkdir -p "$OUT/memlab"
  (cd "$OUT/memlab" && [ -f package.json ] || npm init -y >/dev/null)
  (cd "$OUT/memlab" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund memlab@2.0.5 >/dev/null)
fi

# measure CMD... -> prints "wall_s rss_mb cpu_s" (best wall of RUNS, its RSS and user+sys CPU)
measure() {
  local best_w="" best_r="" best_c=""
  for _ in $(seq "$RUNS"); do
    local log; log=$(mktemp)
    if ! /usr/bin/time -v "$@" >/dev/null 2>"$log"; then
      tail -3 "$log" >&2; rm -f "$log"; echo "fail fail fail"; return
    fi
    local w r c
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    r=$(awk '/Maximum resident set size/ {printf "%.0f", $NF/1024}' "$log")
    c=$(awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.2f", s}' "$log")
    rm -f "$log"
    if [ -z "$best_w" ] || awk "BEGIN{exit !($w < $best_w)}"; then best_w=$w; best_r=$r; best_c=$c; fi
  done
  echo "$best_w $best_r $best_c"
}

# Snapshots may live elsewhere (they are big): HEAP_SNAPSHOTS="a.heapsnapshot b.heapsnapshot".
FILES=${HEAP_SNAPSHOTS:-"$OUT/heap-200mb.heapsnapshot $OUT/heap-1gb.heapsnapshot"}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %8s %10s %10s %10s %12s %12s %12s %8s\n' file size_mb lh_wall_s lh_cpu_s lh_rss_mb memlab_wall memlab_cpu memlab_rss ratio_t
for f in $FILES; do
  size=$(( $(stat -L -c %s "$f") / 1048576 ))
  read -r lw lr lc < <(measure "$LH" heap summary "$f" --json /dev/null)
  mw=skip; mr=skip; mc=skip; ratio=-
  if [ -z "${SKIP_MEMLAB:-}" ]; then
    read -r mw mr mc < <(measure node --max-old-space-size=16000 bench/memlab-parse.js "$f")
    if [ "$mw" != fail ]; then ratio=$(awk "BEGIN{printf \"%.1fx\", $mw/$lw}"); fi
  fi
  printf '%-28s %8s %10s %10s %10s %12s %12s %12s %8s\n' "$(basename "$f")" "$size" "$lw" "$lc" "$lr" "$mw" "$mc" "$mr" "$ratio"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other builds share this machine)"
