#!/usr/bin/env bash
# Type-check the npm package's declarations (index.d.ts, test.d.ts, types/*.d.ts) with tsc
# --strict against npm/tools/typecheck.ts, which uses every function the way the docs do.
# typescript is a build tool pinned in npm/tools/package-lock.json (installed like gen-types.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${LEAKHOUND_NPM_TOOLS:-$root/target/npm-tools}
if [ ! -f "$tools/node_modules/typescript/package.json" ] ||
  ! cmp -s "$root/npm/tools/package-lock.json" "$tools/package-lock.json"; then
  mkdir -p "$tools"
  cp "$root/npm/tools/package.json" "$root/npm/tools/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
node "$tools/node_modules/typescript/bin/tsc" --noEmit --strict --target es2022 \
  --lib es2022,dom --module commonjs --moduleResolution node "$root/npm/tools/typecheck.ts"
