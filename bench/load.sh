#!/usr/bin/env bash
# Benchmark `leakhound load` against wrk, oha and autocannon on the same fast server.
#
# Server: nginx (Debian), one worker, `return 200` with a 30-byte JSON body, pinned to CPU 0.
# Generators: pinned to CPU 1, one thread each (`taskset -c 1`; leakhound and oha run one worker
# there), same connections and duration, POST of a 53-byte JSON body, tools interleaved,
# REPS repetitions. Prints each run, then per tool the median req/s [min..max], p50/p99 as each
# tool reports them, peak RSS (/usr/bin/time -v), user+sys CPU per request, and the ratios
# leakhound/wrk, leakhound/oha, leakhound/autocannon.
#
# Usage: bench/load.sh            (env: CONNS="50 256" REPS=3 DUR=10 TOOLS="wrk oha autocannon leakhound")
# Installs what is missing: wrk and nginx-light (apt), oha (cargo install --locked), autocannon (npm).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONNS=${CONNS:-"50 256"}
REPS=${REPS:-3}
DUR=${DUR:-10}
TOOLS=${TOOLS:-"wrk oha autocannon leakhound"}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
BODY='{"items":["sample_item"],"userContext":{"userId":"u"}}'

need() { command -v "$1" >/dev/null 2>&1; }
need wrk || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x /usr/sbin/nginx ] || { apt-get update -qq && apt-get install -y -qq nginx-light; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
need oha || cargo install oha --locked
need autocannon || npm install -g autocannon@9
cargo build --release -q -p leakhound
LH=$ROOT/target/release/leakhound

WORK=$(mktemp -d)
NGINX_PID=
cleanup() { [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/tmp"
sed "s/__PORT__/$PORT/" bench/nginx.conf > "$WORK/nginx.conf"
taskset -c "$SERVER_CPU" /usr/sbin/nginx -p "$WORK" -c "$WORK/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/api/data"
cat > "$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body   = '$BODY'
wrk.headers["Content-Type"] = "application/json"
EOF

echo "# $(date -u +%FT%TZ)  $(nproc) CPUs  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(oha --version), autocannon $(autocannon --version 2>/dev/null | head -1 | awk '{print $NF}'), $($LH --version)"
RESULTS=$WORK/results.tsv
: > "$RESULTS"

run_one() { # tool conns rep
  local tool=$1 c=$2 out=$WORK/$1-$2-$3.out tm=$WORK/$1-$2-$3.time
  case $tool in
    wrk) cmd=(wrk -t1 -c"$c" -d"${DUR}s" --latency -s "$WORK/post.lua" "$URL") ;;
    oha) cmd=(oha -z "${DUR}s" -c "$c" -m POST -T application/json -d "$BODY" --no-tui --worker-threads 1 --output-format json "$URL") ;;
    autocannon) cmd=(autocannon -c "$c" -d "$DUR" -m POST -H Content-Type=application/json -b "$BODY" -j "$URL") ;;
    leakhound) cmd=("$LH" load -c "$c" -d "${DUR}s" -m POST -H 'Content-Type: application/json' -b "$BODY" --json - --no-progress "$URL") ;;
  esac
  timeout -k 5 $((DUR + 30)) /usr/bin/time -v -o "$tm" taskset -c "$GEN_CPU" "${cmd[@]}" > "$out" 2>"$out.err" || true
  python3 - "$tool" "$c" "$out" "$tm" >> "$RESULTS" <<'PY'
import json, re, sys
tool, c, out, tm = sys.argv[1:]
text = open(out).read()
t = open(tm).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
user = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
sys_ = float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    if not m:
        sys.exit(f"cannot read latency {v!r} in {out}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[m.group(2)]
if tool == "wrk":
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = ms(re.search(r"50%\s+(\S+)", text).group(1)); p99 = ms(re.search(r"99%\s+(\S+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
elif tool == "oha":
    j = json.loads(text); rps = j["summary"]["requestsPerSec"]
    p50 = j["latencyPercentiles"]["p50"] * 1e3; p99 = j["latencyPercentiles"]["p99"] * 1e3
    total = sum(j.get("statusCodeDistribution", {}).values())
elif tool == "autocannon":
    j = json.loads(text.strip().splitlines()[-1]); rps = j["requests"]["average"]
    p50 = j["latency"]["p50"]; p99 = j["latency"]["p99"]; total = j["requests"]["total"]
else:
    j = json.loads(text); rps = j["requests_per_sec"]
    p50 = j["latency"]["p50_ms"]; p99 = j["latency"]["p99_ms"]; total = j["successful"]
n = max(total, 1)
print(f"{tool}\t{c}\t{rps:.0f}\t{p50:.3f}\t{p99:.3f}\t{rss:.1f}\t{user / n * 1e6:.2f}\t{sys_ / n * 1e6:.2f}")
PY
  tail -1 "$RESULTS" | awk -F'\t' '{printf "  %-10s c=%-4s %8s req/s  p50 %s ms  p99 %s ms  RSS %s MB  user/sys %s/%s us/req\n",$1,$2,$3,$4,$5,$6,$7,$8}'
}

for c in $CONNS; do
  for rep in $(seq "$REPS"); do
    for tool in $TOOLS; do
      sleep 1
      run_one "$tool" "$c" "$rep"
    done
  done
done

python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {}
for tool, c, rps, p50, p99, rss, us, sy in rows:
    by.setdefault((int(c), tool), []).append((float(rps), float(p50), float(p99), float(rss), float(us), float(sy)))
print()
print("| c | tool | req/s median [min..max] | p50 ms | p99 ms | peak RSS MB | user / sys µs per request |")
print("|---|---|---|---|---|---|---|")
med = {}
for (c, tool), v in sorted(by.items()):
    r = [x[0] for x in v]; m = statistics.median(r); med[(c, tool)] = m
    col = lambda i: statistics.median(x[i] for x in v)
    print(f"| {c} | {tool} | {m:,.0f} [{min(r):,.0f}..{max(r):,.0f}] | {col(1):.3f} | {col(2):.3f} | {max(x[3] for x in v):.1f} | {col(4):.2f} / {col(5):.2f} |")
print()
for c in sorted({c for c, _ in by}):
    lh = med.get((c, "leakhound"))
    if not lh:
        continue
    ratios = [f"leakhound/{t} = {lh / med[(c, t)]:.2f}" for t in ("wrk", "oha", "autocannon") if (c, t) in med]
    print(f"c={c}: " + ", ".join(ratios))
PY
