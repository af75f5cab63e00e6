// The JS API of leakhound. The result types under ./types are generated from the JSON Schemas
// in docs/schema by npm/gen-types.sh (do not edit them); this file is written by hand.
import type { RunResult as RunDocument } from './types/run';
import type { LoadResult as LoadDocument } from './types/load';
import type { GcResult as GcDocument } from './types/gc';
import type { AllocResult as AllocDocument } from './types/alloc';
import type { CompareResult as CompareDocument } from './types/compare';
import type { HeapSummaryResult as HeapSummaryDocument } from './types/heap.summary';
import type { HeapDiffResult as HeapDiffDocument } from './types/heap.diff';
import type { HeapLeaksResult as HeapLeaksDocument } from './types/heap.leaks';

export type { Verdict, LeakKind, Phase, SuspectOut, AllocSiteOut, RunSample } from './types/run';

/**
 * Every result carries the binary's exit code: 0 no leak / done, 1 leak, 3 inconclusive,
 * 5 fix not proven, 6 regression, 10 allocation pressure (`failOn: 'pressure'`),
 * 11 `maxRetainedPerRequest` exceeded, 12 `maxGcShare` exceeded.
 */
export interface WithExitCode {
  exitCode: 0 | 1 | 3 | 5 | 6 | 10 | 11 | 12;
}

export type RunResult = RunDocument & WithExitCode;
export type LoadResult = LoadDocument & WithExitCode;
export type GcResult = GcDocument & WithExitCode;
export type AllocResult = AllocDocument & WithExitCode;
export type CompareResult = CompareDocument & WithExitCode;
export type HeapSummaryResult = HeapSummaryDocument & WithExitCode;
export type HeapDiffResult = HeapDiffDocument & WithExitCode;
export type HeapLeaksResult = HeapLeaksDocument & WithExitCode;

/** How the binary is started (not flags). */
export interface SpawnOptions {
  /** Working directory of the leakhound process (and so of the target). */
  cwd?: string;
  /** Extra environment variables (added to process.env). */
  env?: Record<string, string>;
  /** Abort the call (the binary gets SIGTERM). */
  signal?: AbortSignal;
  /** Not allowed: the API owns stdout (it passes `--json -` itself). */
  json?: never;
}

/**
 * The load options `run` and `load` share, one to one with the CLI flags in camelCase
 * (`leakhound load --help`). Durations are strings with a unit (`'30s'`, `'500ms'`).
 */
export interface LoadFlags {
  /** `-c`: connections, each keeping one request in flight (closed model). */
  connections?: number;
  /** `-n`: stop after N requests in all. */
  requests?: number;
  /** `-d`: stop after this long under load in all. */
  duration?: string;
  /** `-q`: open model, R requests per second on a fixed schedule. */
  rate?: number;
  /** `-m`: HTTP method (default GET, or POST with a body). */
  method?: string;
  /** Repeated `-H`: request headers, each `'Name: value'` (templates allowed). */
  headers?: string[];
  /** `-b`: request body, or `@FILE` to read it from a file. */
  body?: string;
  /** Per request, from send to the end of the body (default `'30s'`). */
  timeout?: string;
  /** Per connection attempt (default `'5s'`). */
  connectTimeout?: string;
  /** Named endpoints file (TOML). */
  config?: string;
  /** Which endpoint of `config` to drive. */
  endpoint?: string;
  /** Path requested (`run` aims at its child on this path). */
  path?: string;
  /** Any other flag of the installed binary, camelCase: `true` is a bare flag, arrays repeat. */
  [flag: string]: string | number | boolean | string[] | undefined | unknown;
}

/** `leakhound run` flags (`leakhound run --help`), plus the target command. */
export interface RunOptions extends LoadFlags, SpawnOptions {
  /** The command that starts the service, e.g. `['node', 'server.js']` (after `--`). */
  command: string[];
  /** `--port`: the port the target listens on (default: a free one, passed as PORT). */
  port?: number;
  /** `--heap-mb`: the target's heap limit in MB (default 128). */
  heapMb?: number | string;
  /** `--max-duration`: time under load over all rounds (default `'60s'`). */
  maxDuration?: string;
  /** `--start-timeout`: how long the target may take to accept connections. */
  startTimeout?: string;
  /** `--idle`: the idle phase after the load rounds. */
  idle?: string;
  /** `--prod-rps`: production request rate for the projection. */
  prodRps?: number;
  /** `--prod-heap-mb`: production heap for the projection. */
  prodHeapMb?: number | string;
  /** `--report`: also write the HTML report to this file. */
  report?: string;
  /** `--markdown`: also write a Markdown summary to this file. */
  markdown?: string;
  /** `--fail-on`: e.g. `'pressure'` (exit 10 when allocation pressure is found). */
  failOn?: string;
  /** `--max-retained-per-request`: budget, e.g. `'1KB'` (exit 11). */
  maxRetainedPerRequest?: string;
  /** `--max-gc-share`: budget in percent (exit 12). */
  maxGcShare?: number | string;
  /** `--profile-dir`: keep the .heapprofile files here. */
  profileDir?: string;
  /** `--sampling-interval`: the sampling heap profiler's interval. */
  samplingInterval?: string;
  /** `--no-alloc-sites`: skip the allocation-site capture. */
  noAllocSites?: boolean;
  /** `--snapshots`: take three heap snapshots into this directory. */
  snapshots?: string;
  /** `-v`. */
  verbose?: boolean;
}

export interface LoadOptions extends LoadFlags, SpawnOptions {
  /** The URL(s) to drive (positional arguments). */
  urls?: string[];
  /** One URL (positional argument). */
  url?: string;
}

export interface GcOptions extends SpawnOptions {
  /** `--heap-limit`: the heap limit, e.g. `'4GB'` or MB. */
  heapLimit?: string | number;
}

export interface TopOptions extends SpawnOptions {
  /** `--top`: how many entries to list. */
  top?: number;
}

/** Rejection of a call: usage error (2), failed target (4), interrupted (130). */
export declare class LeakhoundError extends Error {
  /** 2, 4 or 130 (null when the binary died of a signal). */
  exitCode: number | null;
  signal: string | null;
  /** The partial document when the binary wrote one (a failed target's run/v1). */
  result?: RunDocument | Record<string, unknown>;
  /** The binary's human text. */
  stderr: string;
  /** The arguments the binary was given. */
  args: string[];
}

/** Start the service, drive load at it, and decide: resolves for leak, no-leak, inconclusive and budgets. */
export declare function run(options: RunOptions): Promise<RunResult>;
/** Drive HTTP load and summarise it. */
export declare function load(options: LoadOptions): Promise<LoadResult>;
/** Judge a V8 --trace-gc log file. */
export declare function gc(file: string, options?: GcOptions): Promise<GcResult>;
/** Summarise a sampling heap profile (.heapprofile). */
export declare function alloc(file: string, options?: TopOptions): Promise<AllocResult>;
/** Compare two saved `run` results: fix proven (0), not proven (5), regression (6). */
export declare function compare(before: string, after: string, options?: SpawnOptions): Promise<CompareResult>;

/** `leakhound heap …`: one function per subcommand. */
export declare const heap: {
  summary(file: string, options?: TopOptions): Promise<HeapSummaryResult>;
  diff(a: string, b: string, options?: TopOptions): Promise<HeapDiffResult>;
  /** Resolves for a leak too (exit 1, `exitCode: 1`). */
  leaks(s1: string, s2: string, s3: string, options?: TopOptions): Promise<HeapLeaksResult>;
};

/** The binary the API and the launcher run (the platform package's, or `LEAKHOUND_BINARY`). */
export declare function binaryPath(): string;
/** The flags an options object becomes (for logging). */
export declare function toArgs(options?: Record<string, unknown>): string[];
