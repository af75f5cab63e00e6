#!/usr/bin/env bash
# Regenerate the TypeScript types of the npm package from the published JSON Schemas:
#   docs/schema/<doc>.schema.json  ->  npm/leakhound/types/<doc>.d.ts
# Usage: bash npm/gen-types.sh [OUT_DIR]   (default: npm/leakhound/types, the checked-in copy)
# json-schema-to-typescript (pinned in npm/tools/package-lock.json) is a build tool, not a
# dependency of the package: it is installed once into target/npm-tools (set
# LEAKHOUND_NPM_TOOLS to use another cache directory).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/npm/leakhound/types}
tools=${LEAKHOUND_NPM_TOOLS:-$root/target/npm-tools}
if [ ! -f "$tools/node_modules/json-schema-to-typescript/package.json" ] ||
  ! cmp -s "$root/npm/tools/package-lock.json" "$tools/package-lock.json"; then
  mkdir -p "$tools"
  cp "$root/npm/tools/package.json" "$root/npm/tools/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
NODE_PATH="$tools/node_modules" node "$root/npm/tools/gen-types.js" "$root/docs/schema" "$out"
