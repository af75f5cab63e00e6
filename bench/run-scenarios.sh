#!/usr/bin/env bash
# Time to verdict of `leakhound run` over the scenario suite (scenarios/expected.toml).
# Prints one line per scenario (expected, got, seconds) and the median and max.
# Usage: bench/run-scenarios.sh [ROUNDS]   (default 1 pass over the suite; release build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-1}"
# BIN=target/debug/leakhound times another build instead of building the release one.
bin="${BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -q -p leakhound
  bin=target/release/leakhound
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name|path|verdict from the manifest (flat TOML tables, one key per line).
awk -F' = ' '
  /^\[/ { if (name) print name "|" path "|" verdict; name=substr($0,2,length($0)-2); path=""; verdict="" }
  $1=="path" { gsub(/"/,"",$2); path=$2 }
  $1=="verdict" { gsub(/"/,"",$2); verdict=$2 }
  END { if (name) print name "|" path "|" verdict }
' scenarios/expected.toml > "$tmp/list"

times=()
wrong=0
printf '%-16s %-8s %-13s %7s\n' scenario expected got seconds
for r in $(seq "$rounds"); do
  while IFS='|' read -r name path want; do
    start=$(date +%s.%N)
    set +e
    "$bin" run --json "$tmp/$name.json" -- node "$path" >/dev/null 2>"$tmp/$name.err"
    code=$?
    set -e
    end=$(date +%s.%N)
    secs=$(echo "$end - $start" | bc -l)
    got=$(grep -o '"verdict": "[a-z-]*"' "$tmp/$name.json" 2>/dev/null | head -1 | cut -d'"' -f4)
    got=${got:-none}
    [ "$got" = "$want" ] || wrong=$((wrong + 1))
    times+=("$secs")
    printf '%-16s %-8s %-13s %7.1f  (exit %d)\n' "$name" "$want" "$got" "$secs" "$code"
  done < "$tmp/list"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
n=${#times[@]}
median=$(echo "$sorted" | awk -v n="$n" 'NR==int((n+1)/2){a=$1} NR==int(n/2)+1{b=$1} END{ if (n%2) print a; else print (a+b)/2 }')
max=$(echo "$sorted" | tail -1)
printf 'runs: %d  wrong verdicts: %d  median: %.1f s  max: %.1f s\n' "$n" "$wrong" "$median" "$max"
