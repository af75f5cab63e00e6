// Where the leakhound binary is: the one shared answer for the launcher (bin/leakhound) and the
// JS API (index.js), so both run the same binary.
//
// The binary ships in one optional dependency per platform (`@leakhound/linux-x64` ...), the
// esbuild/Biome convention: npm installs only the package whose `os`/`cpu` fit the machine, and
// nothing is downloaded at install time. `LEAKHOUND_BINARY` overrides the lookup (a binary
// built with cargo, or a platform npm has no package for).
'use strict';
const path = require('path');
const fs = require('fs');

/** The platforms a package is published for, as `${process.platform}-${process.arch}`. */
const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

function platformKey(platform = process.platform, arch = process.arch) {
  return `${platform}-${arch}`;
}

function binaryName(platform = process.platform) {
  return platform === 'win32' ? 'leakhound.exe' : 'leakhound';
}

/** Thrown when no binary fits this machine; `message` says which package is missing. */
class BinaryNotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BinaryNotFoundError';
    this.exitCode = 2;
  }
}

function missingMessage(key) {
  if (!PLATFORMS.includes(key)) {
    return (
      `leakhound: no binary for ${key}: there is no @leakhound/${key} package ` +
      `(published: ${PLATFORMS.join(', ')}); build one with \`cargo install leakhound\` ` +
      'and set LEAKHOUND_BINARY to its path'
    );
  }
  return (
    `leakhound: no binary for ${key}: the optional dependency @leakhound/${key} is not ` +
    'installed (npm install --include=optional, or cargo install leakhound)'
  );
}

/** The absolute path of the binary for this machine, or a BinaryNotFoundError. */
function binaryPath() {
  const override = process.env.LEAKHOUND_BINARY;
  if (override) {
    if (!fs.existsSync(override)) {
      throw new BinaryNotFoundError(`leakhound: LEAKHOUND_BINARY=${override}: no such file`);
    }
    return override;
  }
  const key = platformKey();
  let manifest;
  try {
    manifest = require.resolve(`@leakhound/${key}/package.json`);
  } catch {
    throw new BinaryNotFoundError(missingMessage(key));
  }
  const bin = path.join(path.dirname(manifest), 'bin', binaryName());
  if (!fs.existsSync(bin)) {
    throw new BinaryNotFoundError(
      `leakhound: @leakhound/${key} is installed but has no bin/${binaryName()}: reinstall it`
    );
  }
  return bin;
}

module.exports = { binaryPath, platformKey, binaryName, PLATFORMS, BinaryNotFoundError };
