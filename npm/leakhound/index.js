// The JS API: each call runs the leakhound binary with `--json -` and resolves with the parsed
// `leakhound.*/v1` document. A verdict is a result, not an error: a leak (exit 1), an
// inconclusive run (3), a fix not proven (5) or a regression (6) and an exceeded budget
// (10-12) resolve, with `exitCode` on the result. Only a usage error (2), a failed target (4)
// and an interruption (130) reject, with a LeakhoundError carrying `exitCode`, the one-line
// message and `result` (the partial document, when one was written).
'use strict';
const { spawn } = require('child_process');
const { binaryPath } = require('./lib/binary');

/** Exit codes that carry a result (see the exit-code table of the README). */
const RESULT_CODES = new Set([0, 1, 3, 5, 6, 10, 11, 12]);

class LeakhoundError extends Error {
  constructor(message, { exitCode, signal, result, stderr, args }) {
    super(message);
    this.name = 'LeakhoundError';
    this.exitCode = exitCode;
    this.signal = signal;
    this.result = result;
    this.stderr = stderr;
    this.args = args;
  }
}

/** Keys that are spawn settings, not flags. */
const SPAWN_KEYS = new Set(['cwd', 'env', 'signal']);

const kebab = (k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Options to flags, one to one: `maxDuration: '20s'` -> `--max-duration 20s`, `true` -> a
 * bare flag, an array -> the flag repeated; `headers` -> repeated `-H`. `command` is not a
 * flag: it goes after `--`.
 */
function toArgs(options = {}) {
  const args = [];
  for (const [key, value] of Object.entries(options)) {
    if (SPAWN_KEYS.has(key) || key === 'command' || value === undefined || value === null) continue;
    if (key === 'json') {
      throw new TypeError('leakhound: the `json` option is not allowed: the API reads the JSON from stdout itself');
    }
    const flag = key === 'headers' ? '-H' : `--${kebab(key)}`;
    if (value === true) args.push(flag);
    else if (value === false) continue;
    else if (Array.isArray(value)) for (const v of value) args.push(flag, String(v));
    else args.push(flag, String(value));
  }
  return args;
}

/**
 * The one-line reason of a failure: leakhound's `leakhound: error: …` line, else the partial
 * document's `reason` (a failed target, an interruption), else the last line of stderr.
 */
function oneLine(stderr, result) {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const own = [...lines].reverse().find((l) => l.startsWith('leakhound: error:'));
  if (own) return own;
  if (result && (result.reason || result.target_failed)) return `leakhound: ${result.reason || result.target_failed}`;
  return lines.length ? `leakhound: ${lines[lines.length - 1]}` : 'leakhound: failed without a message';
}

/** Run `leakhound <args> --json - [-- command]` and settle as described above. */
function exec(args, command, options = {}) {
  return new Promise((resolve, reject) => {
    let bin;
    try {
      bin = binaryPath();
    } catch (e) {
      reject(e);
      return;
    }
    const argv = [...args, '--json', '-'];
    if (command && command.length) argv.push('--', ...command);
    const child = spawn(bin, argv, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      signal: options.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', (e) => reject(e));
    child.on('close', (exitCode, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      let result;
      try {
        result = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        result = undefined;
      }
      if (result && typeof result === 'object' && RESULT_CODES.has(exitCode)) {
        result.exitCode = exitCode;
        resolve(result);
        return;
      }
      const message = signal ? `leakhound: ended by ${signal}` : oneLine(stderr, result);
      reject(new LeakhoundError(message, { exitCode, signal, result, stderr, args: argv }));
    });
  });
}

function commandOf(options) {
  const c = options && options.command;
  if (c === undefined) return undefined;
  if (!Array.isArray(c) || c.length === 0 || !c.every((x) => typeof x === 'string')) {
    throw new TypeError('leakhound: `command` must be a non-empty array of strings, e.g. ["node", "server.js"]');
  }
  return c;
}

/** `leakhound run [flags] -- command`: resolves with leakhound.run/v1. */
function run(options = {}) {
  try {
    const command = commandOf(options);
    return exec(['run', ...toArgs(options)], command, options);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** `leakhound load [flags] [urls...]`: resolves with leakhound.load/v1. */
function load(options = {}) {
  try {
    const { urls, url, ...rest } = options;
    const positional = urls || (url ? [url] : []);
    return exec(['load', ...toArgs(rest), ...positional], undefined, options);
  } catch (e) {
    return Promise.reject(e);
  }
}

const withFiles = (name, files, options = {}) => {
  try {
    return exec([...name, ...toArgs(options), ...files.map(String)], undefined, options);
  } catch (e) {
    return Promise.reject(e);
  }
};

/** `leakhound gc FILE`: resolves with leakhound.gc/v1. */
const gc = (file, options) => withFiles(['gc'], [file], options);
/** `leakhound alloc FILE`: resolves with leakhound.alloc/v1. */
const alloc = (file, options) => withFiles(['alloc'], [file], options);
/** `leakhound compare BEFORE AFTER`: resolves with leakhound.compare/v1. */
const compare = (before, after, options) => withFiles(['compare'], [before, after], options);

/** `leakhound heap summary|diff|leaks`, as `heap.summary(file)`, `heap.diff(a, b)`, `heap.leaks(a, b, c)`. */
const heap = {
  summary: (file, options) => withFiles(['heap', 'summary'], [file], options),
  diff: (a, b, options) => withFiles(['heap', 'diff'], [a, b], options),
  leaks: (a, b, c, options) => withFiles(['heap', 'leaks'], [a, b, c], options),
};

module.exports = { run, load, gc, alloc, heap, compare, LeakhoundError, binaryPath, toArgs };
