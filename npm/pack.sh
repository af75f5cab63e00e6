#!/usr/bin/env bash
# Pack the npm packages for this machine: writes exactly two tarballs to target/npm/
#   leakhound-<version>.tgz                 the launcher, the JS API and the types
#   leakhound-<platform>-<version>.tgz      @leakhound/<platform>: the binary only
# The version is the workspace's (Cargo.toml [workspace.package]). The binary is built with
# `cargo build --release -p leakhound`, or taken from LEAKHOUND_BIN=/path (tests use the debug
# binary to skip a release build). Other platforms' packages come from the release workflow
# (.github/workflows/release.yml): one machine cannot cross-build them all.
# LEAKHOUND_NPM_OUT=DIR writes the tarballs to DIR instead (tests use a temporary directory).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${LEAKHOUND_NPM_OUT:-$root/target/npm}
stage=$out/stage

version=$(awk '/^\[workspace.package\]/{p=1;next} /^\[/{p=0} p && $1=="version"{gsub(/"/,"",$3); print $3; exit}' "$root/Cargo.toml")
[ -n "$version" ] || { echo "pack.sh: no version in $root/Cargo.toml [workspace.package]" >&2; exit 2; }

platform=$(node -p 'process.platform + "-" + process.arch')
case $platform in
  linux-x64|linux-arm64|darwin-x64|darwin-arm64|win32-x64) ;;
  *) echo "pack.sh: no @leakhound package is published for $platform" >&2; exit 2 ;;
esac
os=${platform%-*}
cpu=${platform#*-}
exe=leakhound
[ "$os" = win32 ] && exe=leakhound.exe

bin=${LEAKHOUND_BIN:-}
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release -p leakhound >&2)
  bin=$root/target/release/$exe
fi
[ -x "$bin" ] || { echo "pack.sh: $bin is not an executable" >&2; exit 2; }

rm -rf "$stage"
mkdir -p "$stage/leakhound" "$stage/$platform/bin"
rm -f "$out"/*.tgz

# The main package, with the workspace version on itself and on its optional dependencies.
(cd "$root/npm/leakhound" && cp -R package.json README.md bin lib types index.js index.mjs index.d.ts \
  test.js test.mjs test.d.ts "$stage/leakhound/")
node - "$stage/leakhound/package.json" "$version" <<'JS'
const fs = require('fs');
const [file, version] = process.argv.slice(2);
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
p.version = version;
for (const k of Object.keys(p.optionalDependencies)) p.optionalDependencies[k] = version;
fs.writeFileSync(file, JSON.stringify(p, null, 2) + '\n');
JS

# The host's platform package: the binary and a package.json with os/cpu.
sed -e "s/@PLATFORM@/$platform/g" -e "s/@VERSION@/$version/g" -e "s/@OS@/$os/g" \
  -e "s/@CPU@/$cpu/g" -e "s/@BIN@/$exe/g" "$root/npm/platform/package.json.in" >"$stage/$platform/package.json"
cp "$root/npm/platform/README.md" "$stage/$platform/README.md"
cp "$bin" "$stage/$platform/bin/$exe"
chmod 755 "$stage/$platform/bin/$exe" "$stage/leakhound/bin/leakhound"

for dir in "$stage/leakhound" "$stage/$platform"; do
  (cd "$dir" && npm pack --silent --pack-destination "$out" >/dev/null)
done
ls "$out"/*.tgz
