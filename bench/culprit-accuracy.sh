#!/usr/bin/env bash
# The culprit-accuracy suite: does leakhound name the line a developer must change?
# For every server in scenarios/culprits.toml, two runs: `leakhound run --snapshots DIR --json`
# and `leakhound run --json` (allocation sites only). Prints one line per server and:
#   top-1     the first `grows` line of the first suspect is the expected line (snapshots)
#   top-3     any `grows` line of the first three suspects is (snapshots)
#   app-site  an app line (not node:, not node_modules) among the first three surviving
#             allocation sites (no snapshots)
#   no-snap   the culprit's line (`culprit.line`) is the expected line (no snapshots)
# Usage: bench/culprit-accuracy.sh [NAME...]   (default: every server; release build)
# Env: MAX_DURATION (default 60s) bounds each run; KEEP=1 keeps the JSON in bench/out/;
# BIN=path runs that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${BIN:-}" ] || cargo build --release -q -p leakhound
bin="${BIN:-$PWD/target/release/leakhound}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
max="${MAX_DURATION:-60s}"

# name|path|file|line|also (\x1f-separated)|args (\x1f-separated), one server a line.
python3 - "$@" > "$tmp/list" <<'PY'
import sys, tomllib
m = tomllib.load(open("scenarios/culprits.toml", "rb"))
only = set(sys.argv[1:])
for name, s in m.items():
    if only and name not in only:
        continue
    print("|".join([name, s["path"], s.get("file", s["path"]), s["line"],
                    "\x1f".join(s.get("also", [])), "\x1f".join(s.get("args", []))]))
PY

printf '%-16s %-7s %-5s %-5s %-8s %-7s %s\n' server verdict top1 top3 app-site no-snap "first grows / culprit line"
while IFS='|' read -r name path file line also args; do
  IFS=$'\x1f' read -r -a extra <<< "$args"
  for mode in snap nosnap; do
    flags=()
    [ "$mode" = snap ] && flags=(--snapshots "$tmp/$name.snaps")
    set +e
    "$bin" run -c 4 --max-duration "$max" "${flags[@]}" "${extra[@]}" \
      --json "$tmp/$name.$mode.json" -- node "$path" >/dev/null 2>"$tmp/$name.$mode.err"
    set -e
    rm -rf "$tmp/$name.snaps"
  done
  python3 - "$tmp" "$name" "$file" "$line" "$also" <<'PY'
import json, sys
tmp, name, file, line, also = sys.argv[1:6]
text = open(file).read().splitlines()
want = set()
for needle in [line] + [a for a in also.split("\x1f") if a]:
    hits = [i for i, l in enumerate(text)
            if needle in l and not l.lstrip().startswith(("//", "*", "/*"))]
    if not hits:
        sys.exit(f"{name}: '{needle}' not in {file}")
    want.add(f"{file}:{hits[0] + 1}")
def load(mode):
    try:
        return json.load(open(f"{tmp}/{name}.{mode}.json"))
    except Exception:
        return {}
snap, nosnap = load("snap"), load("nosnap")
grows = [[l["location"] for l in s.get("source", []) if l["kind"] == "grows"]
         for s in snap.get("suspects", [])]
top1 = bool(grows and grows[0] and grows[0][0] in want)
top3 = any(loc in want for g in grows[:3] for loc in g)
def app(loc):
    return loc and not loc.startswith("node:") and "node_modules" not in loc and not loc.startswith("(")
sites = [s["location"] for s in nosnap.get("alloc_survivors", [])[:3]]
app_site = any(app(l) for l in sites)
cl = ((nosnap.get("culprit") or {}).get("line") or {}).get("location")
no_snap = cl in want
first = grows[0][0] if grows and grows[0] else "-"
yn = lambda b: "yes" if b else "no"
print(f"{name:<16} {snap.get('verdict', 'none'):<7} {yn(top1):<5} {yn(top3):<5} {yn(app_site):<8} {yn(no_snap):<7} {first} / {cl or '-'}  (want {sorted(want)[0]})")
with open(f"{tmp}/scores", "a") as f:
    f.write(f"{int(top1)} {int(top3)} {int(app_site)} {int(no_snap)}\n")
PY
  if [ -n "${KEEP:-}" ]; then mkdir -p bench/out && cp "$tmp/$name".*.json bench/out/ 2>/dev/null || true; fi
done < "$tmp/list"
awk '{a+=$1; b+=$2; c+=$3; d+=$4; n++} END {
  if (n) printf "servers: %d  top-1: %d%%  top-3: %d%%  app site in top 3 (no snapshots): %d%%  culprit line (no snapshots): %d%%\n",
    n, 100*a/n, 100*b/n, 100*c/n, 100*d/n }' "$tmp/scores"
