#!/bin/sh
# Throughput of `leakhound gc`'s reader on one core, and proof that its memory does not grow
# with the log. Usage: bench/gc-throughput.sh [MB]   (default 512 MB of synthetic log)
#  1. cargo bench: the library (Analyzer::push_bytes + analysis, parse_line alone) in memory.
#  2. the release binary end to end on files of 64 MB and MB megabytes: wall time and max RSS.
set -eu
cd "$(dirname "$0")/.."
MB="${1:-512}"
OUT="$PWD/bench/out"
mkdir -p "$OUT"
if [ -z "${SKIP_LIB:-}" ]; then
    LEAKHOUND_GC_BENCH_MB="$MB" taskset -c 0 cargo bench -p leakhound-gctrace --bench throughput
fi
cargo build --release -p leakhound
for size in 64 "$MB"; do
    LEAKHOUND_GC_BENCH_MB="$size" LEAKHOUND_GC_BENCH_WRITE="$OUT/gc-$size.log" \
        cargo bench -q -p leakhound-gctrace --bench throughput >/dev/null
    bytes=$(stat -c %s "$OUT/gc-$size.log")
    # Warm the page cache, then time one run on one core.
    cat "$OUT/gc-$size.log" >/dev/null
    /usr/bin/time -f "%e %M" -o "$OUT/time-$size.txt" taskset -c 0 \
        target/release/leakhound gc --json - "$OUT/gc-$size.log" >"$OUT/gc-$size.json" || true
    # (time prints "Command exited with non-zero status 1" first: leak is exit 1.)
    read -r secs rss_kb <<EOT
$(tail -n 1 "$OUT/time-$size.txt")
EOT
    awk -v b="$bytes" -v s="$secs" -v r="$rss_kb" -v n="$size" 'BEGIN {
        printf "leakhound gc --json (%s MB file): %.2f s, %.0f MB/s, max RSS %.1f MB\n", n, s, b / 1e6 / s, r / 1024 }'
    rm -f "$OUT/gc-$size.log"
done
