#!/usr/bin/env bash
# Cost of `run`'s allocation sampling (on by default) and of `--snapshots`: every scenario of
# scenarios/expected.toml is run with `--no-alloc-sites`, with the default sampling, and
# (with SNAPSHOTS=1) with `--snapshots`, one after the other, and the verdict, wall time,
# throughput and allocation per request of each run are printed, then the medians.
# Usage: bench/culprit-overhead.sh [PASSES]   (default 1; release build; needs jq)
set -euo pipefail
cd "$(dirname "$0")/.."
passes="${1:-1}"
cargo build --release -q -p leakhound
bin=target/release/leakhound
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk -F' = ' '
  /^\[/ { if (name) print name "|" path "|" verdict; name=substr($0,2,length($0)-2); path=""; verdict="" }
  $1=="path" { gsub(/"/,"",$2); path=$2 }
  $1=="verdict" { gsub(/"/,"",$2); verdict=$2 }
  END { if (name) print name "|" path "|" verdict }
' scenarios/expected.toml > "$tmp/list"

modes=(off on)
[ "${SNAPSHOTS:-0}" = 1 ] && modes+=(snapshots)
printf '%-14s %-9s %-8s %-8s %7s %8s %9s %s\n' scenario mode expected got seconds 'req/s' 'alloc/req' pressure
for p in $(seq "$passes"); do
  while IFS='|' read -r name path want; do
    for mode in "${modes[@]}"; do
      case $mode in
        off) extra=(--no-alloc-sites) ;;
        on) extra=() ;;
        snapshots) rm -rf "$tmp/snaps"; extra=(--snapshots "$tmp/snaps") ;;
      esac
      json="$tmp/$name.$mode.json"
      start=$(date +%s.%N)
      set +e
      "$bin" run "${extra[@]}" --json "$json" -- node "$path" >/dev/null 2>"$tmp/err"
      set -e
      end=$(date +%s.%N)
      secs=$(echo "$end - $start" | bc -l)
      got=$(jq -r '.verdict // "none"' "$json" 2>/dev/null || echo none)
      rps=$(jq -r '.requests_per_second | floor' "$json" 2>/dev/null || echo 0)
      apr=$(jq -r '(.allocated_bytes_per_request // 0) | floor' "$json" 2>/dev/null || echo 0)
      pres=$(jq -r 'if .allocation_pressure then "yes" else "-" end' "$json" 2>/dev/null || echo -)
      printf '%-14s %-9s %-8s %-8s %7.1f %8s %9s %s\n' "$name" "$mode" "$want" "$got" "$secs" "$rps" "$apr" "$pres"
      echo "$mode $secs $rps $([ "$got" = "$want" ] && echo 1 || echo 0)" >> "$tmp/all"
    done
  done < "$tmp/list"
done
median() { sort -n | awk '{ v[NR]=$1 } END { if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
for mode in "${modes[@]}"; do
  n=$(awk -v m="$mode" '$1==m' "$tmp/all" | wc -l)
  ok=$(awk -v m="$mode" '$1==m { s+=$4 } END { print s }' "$tmp/all")
  t=$(awk -v m="$mode" '$1==m { print $2 }' "$tmp/all" | median)
  mx=$(awk -v m="$mode" '$1==m { print $2 }' "$tmp/all" | sort -n | tail -1)
  r=$(awk -v m="$mode" '$1==m { print $3 }' "$tmp/all" | median)
  printf '%-9s runs %d  right verdicts %d  median time %.1f s  max %.1f s  median req/s %.0f\n' "$mode" "$n" "$ok" "$t" "$mx" "$r"
done
