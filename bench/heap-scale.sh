#!/usr/bin/env bash
# `leakhound heap summary` at production scale: the ~215 MB source, a 1.0 GiB, a ~1.1 GB and a ~4.4 GB (> 2^32 bytes, 56 M
# nodes) snapshot, made by replicating a real ~215 MB Node snapshot (bench/heap-gen.js) with
# `heap-replicate` (crates/heap/examples): Node cannot write a 4 GB snapshot on this machine.
#
#   bench/heap-scale.sh                 # generates into bench/out/ once (git-ignored), then times
#   RUNS=3 bench/heap-scale.sh          # best of N runs per file (default 1)
#   SKIP_MEMLAB=1 bench/heap-scale.sh   # memlab runs on the 1 GB file only, and needs ~4 GB RSS
#   REAL_2GB=1 bench/heap-scale.sh      # also a real ~2 GB snapshot written by Node (slow: Node
#                                       # needs about twice the heap to write it)
#   SKIP_4GB=1 bench/heap-scale.sh      # leave out the ~4.4 GB file (generation and timing)
#   CLEAN=1 bench/heap-scale.sh         # delete the generated snapshots when done (the source
#                                       # snapshot stays: Node takes a while to write it)
#   COLD=1 bench/heap-scale.sh          # drop the page cache before each leakhound run (root);
#                                       # otherwise each file is read once first (`cat`) so the
#                                       # runs start warm: on a shared machine the page cache
#                                       # does not keep a 4 GB file between runs by itself;
#                                       # as root, the page cache is dropped before that read
#
# Prints per file: size, wall, user+sys CPU and peak RSS (`/usr/bin/time -v`), peak RSS over the
# file size, the load average, and checks that K copies summarise to K× the original's totals.
# Then `heap diff` and `heap leaks` on a series of one process: 4, 5 and 6 copies of the source
# (~0.9, 1.1 and 1.35 GB). Copy c's ids are the same in every file of the series, so each later
# file holds exactly one copy of new objects (a real diff: one copy's worth new, none gone).
# Both hold one whole heap at a time (each earlier file reduced to its ids, classes, sizes and
# collection sizes, then closed), so their peak is the largest file's heap plus those maps.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
RUNS=${RUNS:-1}
SRC=$OUT/heap-200mb.heapsnapshot
# The 1 GB goal measured on a file of 1.0 GiB (1.07 GB): five copies of a smaller source.
SRC1=$OUT/heap-205mb.heapsnapshot
GIB=$OUT/heap-1gib-x5.heapsnapshot
G1=$OUT/heap-1gb-x5.heapsnapshot
G4=$OUT/heap-4gb-x19.heapsnapshot
S4=$OUT/heap-1gb-x4.heapsnapshot
S6=$OUT/heap-1gb-x6.heapsnapshot
R2=$OUT/heap-2gb-real.heapsnapshot

if [ ! -s "$SRC" ]; then
  echo "generating $SRC (heap ~120 MB) ..." >&2
  node --max-old-space-size=12000 bench/heap-gen.js 120 "$SRC" >&2
fi
if [ ! -s "$SRC1" ] && [ ! -s "$GIB" ]; then
  echo "generating $SRC1 (heap ~111 MB) ..." >&2
  node --max-old-space-size=12000 bench/heap-gen.js 111 "$SRC1" >&2
fi
cargo build --release -q -p leakhound
cargo build --release -q -p leakhound-heap --example heap-replicate
LH=target/release/leakhound
REP=target/release/examples/heap-replicate
[ -s "$G1" ] || "$REP" "$SRC" 5 "$G1" >&2
[ -s "$GIB" ] || "$REP" "$SRC1" 5 "$GIB" >&2
[ -s "$S4" ] || "$REP" "$SRC" 4 "$S4" >&2
[ -s "$S6" ] || "$REP" "$SRC" 6 "$S6" >&2
FILES="$SRC $GIB $G1"
if [ -z "${SKIP_4GB:-}" ]; then
  [ -s "$G4" ] || "$REP" "$SRC" 19 "$G4" >&2
  FILES="$FILES $G4"
fi
if [ -n "${REAL_2GB:-}" ]; then
  if [ ! -s "$R2" ]; then
    echo "generating $R2 (heap ~1150 MB; needs ~8 GB RSS) ..." >&2
    node --max-old-space-size=20000 bench/heap-gen.js 1150 "$R2" >&2 || echo "real 2 GB snapshot failed" >&2
  fi
  [ -s "$R2" ] && FILES="$FILES $R2"
else
  echo "note: no real 2 GB snapshot (REAL_2GB=1 makes one)" >&2
fi

if [ -z "${SKIP_MEMLAB:-}" ] && [ ! -d "$OUT/memlab/node_modules/memlab" ]; then
  mkdir -p "$OUT/memlab"
  (cd "$OUT/memlab" && { [ -f package.json ] || npm init -y >/dev/null; })
  (cd "$OUT/memlab" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund memlab@2.0.5 >/dev/null) \
    || echo "note: memlab could not be installed; skipped" >&2
fi

# measure "FILE..." CMD... -> "wall_s rss_mib cpu_s" of the best-wall run of RUNS (CMD reads
# the FILEs, a space-separated list)
measure() {
  local files=$1; shift
  local best_w="" best_r="" best_c=""
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086 # a list of paths without spaces
    # Warm runs start from a page cache that holds the files under test and little else
    # (dropped first, when we may): on a machine whose memory is full of other files' cache,
    # every fresh page of the analysis first waits for the kernel to reclaim one, which
    # measured 10.99 s against 14.16 s on the 4.4 GB file (system time 3.4 s against 7.0 s).
    if [ -n "${COLD:-}" ]; then sync; echo 1 > /proc/sys/vm/drop_caches
    else { [ -w /proc/sys/vm/drop_caches ] && sync && echo 1 > /proc/sys/vm/drop_caches; } || true; cat $files >/dev/null; fi
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

# K copies must summarise to K× the original (total bytes and nodes).
check() { # FILE K SOURCE
  "$LH" heap summary "$3" --json "$OUT/scale-src.json" >/dev/null
  "$LH" heap summary "$1" --json "$OUT/scale-check.json" >/dev/null
  node -e '
    const [a, b, k] = [require(process.argv[1]), require(process.argv[2]), +process.argv[3]];
    const ok = b.total_bytes === k * a.total_bytes && b.node_count === k * a.node_count;
    console.log(`check ${process.argv[4]}: total ${b.total_bytes} = ${k} x ${a.total_bytes}, nodes ${b.node_count} = ${k} x ${a.node_count}: ${ok ? "ok" : "MISMATCH"}`);
    process.exit(ok ? 0 : 1);' "$PWD/$OUT/scale-src.json" "$PWD/$OUT/scale-check.json" "$2" "$(basename "$1")"
}
check "$G1" 5 "$SRC"
if [ -s "$SRC1" ]; then check "$GIB" 5 "$SRC1"; fi
[ -z "${SKIP_4GB:-}" ] && check "$G4" 19 "$SRC"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $( [ -n "${COLD:-}" ] && echo "cold page cache (dropped before each run)" || echo "warm page cache (each file read before each run)")"
printf '%-28s %9s %9s %9s %9s %9s %7s  %s\n' file size_mb wall_s cpu_s rss_mib rss/file nodes load_after
for f in $FILES; do
  bytes=$(stat -L -c %s "$f")
  read -r w r c < <(measure "$f" "$LH" heap summary "$f" --json /dev/null)
  ratio=$(awk "BEGIN{printf \"%.2f\", $r * 1048576 / $bytes}")
  nodes=$(awk 'NR==1 {print}' <(head -c 2000 "$f" | grep -o '"node_count":[0-9]*' | cut -d: -f2))
  printf '%-28s %9s %9s %9s %9s %9s %7s  %s\n' "$(basename "$f")" "$((bytes / 1000000))" "$w" "$c" "$r" "$ratio" "$((nodes / 1000000))M" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
if [ -z "${SKIP_MEMLAB:-}" ] && [ -d "$OUT/memlab/node_modules/memlab" ]; then
  read -r w r c < <(measure "$G1" node --max-old-space-size=16000 bench/memlab-parse.js "$G1")
  printf '%-28s %9s %9s %9s %9s %9s %7s  %s\n' "memlab $(basename "$G1")" "$(($(stat -L -c %s "$G1") / 1000000))" "$w" "$c" "$r" - - "$(cut -d' ' -f1-3 /proc/loadavg)"
else
  echo "memlab skipped"
fi

# diff and leaks over the series; `heap leaks` exits 1 when it finds a leak (it should here: a
# whole copy of the heap is new in S2 and still alive in S3), so exit 0 and 1 both count as done.
echo "series: $(basename "$S4"), $(basename "$G1"), $(basename "$S6") (one copy of new objects per step)"
printf '%-28s %9s %9s %9s %9s %9s\n' command largest_mb wall_s cpu_s rss_mib rss/largest
report_series() { # NAME LARGEST_FILE WALL RSS CPU
  local name=$1 big w=$3 r=$4 c=$5; big=$(stat -L -c %s "$2")
  printf '%-28s %9s %9s %9s %9s %9s  load %s\n' "$name" "$((big / 1000000))" "$w" "$c" "$r" \
    "$(awk "BEGIN{printf \"%.2f\", $r * 1048576 / $big}")" "$(cut -d' ' -f1-3 /proc/loadavg)"
}
# The goal is against one summary of the largest file of each command, measured here too.
read -r w5 r c < <(measure "$G1" "$LH" heap summary "$G1" --json /dev/null)
report_series "summary x5" "$G1" "$w5" "$r" "$c"
read -r w6 r c < <(measure "$S6" "$LH" heap summary "$S6" --json /dev/null)
report_series "summary x6" "$S6" "$w6" "$r" "$c"
read -r wd r c < <(measure "$S4 $G1" "$LH" heap diff "$S4" "$G1" --json /dev/null)
report_series "diff x4 x5" "$G1" "$wd" "$r" "$c"
read -r wl r c < <(measure "$S4 $G1 $S6" sh -c '"$0" heap leaks "$@" --json /dev/null >/dev/null; [ $? -le 1 ]' "$LH" "$S4" "$G1" "$S6")
report_series "leaks x4 x5 x6" "$S6" "$wl" "$r" "$c"
awk "BEGIN{printf \"time against one summary: diff %.2fx (of x5), leaks %.2fx (of x6)\n\", $wd / $w5, $wl / $w6}"
"$LH" heap diff "$S4" "$G1" --json "$OUT/scale-diff.json" >/dev/null
node -e '
  const d = require(process.argv[1]);
  console.log(`diff x4 -> x5: total ${d.total_before} -> ${d.total_after}, ${d.classes.length} classes changed; top: ${JSON.stringify(d.classes[0])}`);' "$PWD/$OUT/scale-diff.json" || true

if [ -n "${CLEAN:-}" ]; then
  rm -f "$G1" "$GIB" "$G4" "$S4" "$S6" "$OUT/scale-src.json" "$OUT/scale-check.json" "$OUT/scale-diff.json"
  echo "deleted the generated snapshots (CLEAN=1)"
fi
