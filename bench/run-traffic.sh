#!/usr/bin/env bash
# Time to verdict of `leakhound run` on the issue-11 servers (routes, login, connection shapes,
# the user's own load, workloads, time-driven growth, a filling index). One line per case:
# expected verdict, verdict got, wall seconds, exit code. Release build, all traffic on
# 127.0.0.1, each run bounded by its --max-duration and a `timeout`.
# Usage: bench/run-traffic.sh            (KEEP=DIR keeps each case's terminal output there;
#        BIN=target/debug/leakhound times another build instead of building the release one)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -q -p leakhound
  bin=target/release/leakhound
fi
s=crates/leakhound/tests/servers
w=crates/leakhound/tests/workloads
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
keep="${KEEP:-$tmp}"
mkdir -p "$keep"

# name|expected verdict|env (K=V, or -)|arguments of `leakhound run`
cat > "$tmp/cases" <<CASES
8-routes|leak|-|--config $s/eight-routes.toml -- node $s/eight-routes.js
8-routes-one|leak|-|--config $s/eight-routes.toml --endpoint orders -- node $s/eight-routes.js
auth-setup|leak|-|--config examples/login.toml --path /items -H 'Authorization: Bearer {{token}}' -- node $s/auth-service.js
per-conn-keepalive|no-leak|-|--max-duration 40s -- node $s/per-connection-leak.js
per-conn-no-keepalive|leak|-|--no-keepalive -- node $s/per-connection-leak.js
abort-5%|leak|-|--abort 5% -- node examples/leaky-server.js
interval-leak|leak|-|-- node $s/interval-leak.js
warm-index|no-leak|-|--max-duration 90s -- node $s/warm-index.js
load-cmd-work|leak|-|--load-cmd 'node $s/load-driver.js' -- node examples/leaky-server.js
load-cmd-work-fixed|no-leak|-|--load-cmd 'node $s/load-driver.js' -- node examples/fixed-server.js
load-cmd-time|leak|-|--load-cmd 'NO_COUNT=1 node $s/load-driver.js' -- node examples/leaky-server.js
load-cmd-warm-index|no-leak|-|--max-duration 90s --load-cmd 'NO_COUNT=1 node $s/load-driver.js' -- node $s/warm-index.js
load-cmd-cluster|leak|LEAK=1|--load-cmd 'NO_COUNT=1 node $s/load-driver.js' -- node $s/processes/cluster.js
workload-leaky|leak|-|--workload $w/leaky.mjs
workload-healthy|no-leak|-|--workload $w/healthy.cjs
workload-c4-leaky|leak|-|--workload $w/overlapping-leaky.mjs --concurrency 4
CASES

printf '%-22s %-8s %-13s %7s\n' case expected got seconds
wrong=0
while IFS='|' read -r name want env args; do
  start=$(date +%s.%N)
  set +e
  if [ "$env" = "-" ]; then env=""; fi
  eval "env $env timeout 150 $bin run --json $tmp/$name.json $args" </dev/null >"$keep/$name.txt" 2>&1
  code=$?
  set -e
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  got=$(grep -o '"verdict": "[a-z-]*"' "$tmp/$name.json" 2>/dev/null | head -1 | cut -d'"' -f4)
  got=${got:-none}
  [ "$got" = "$want" ] || wrong=$((wrong + 1))
  printf '%-22s %-8s %-13s %7.1f  (exit %d)\n' "$name" "$want" "$got" "$secs" "$code"
done < "$tmp/cases"
printf 'cases: %d  wrong verdicts: %d  load average: %s\n' "$(wc -l < "$tmp/cases")" "$wrong" "$(cut -d' ' -f1-3 /proc/loadavg)"
