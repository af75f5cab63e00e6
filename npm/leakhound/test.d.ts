// `leakhound/test`: assertions for test runners.
import type { RunResult } from './types/run';

/** Throws node's AssertionError unless `result.verdict` is `'no-leak'`; the message holds the
 * verdict, the evidence lines and the culprit (suspects, surviving allocation sites). */
export declare function assertNoLeak(result: RunResult): void;
/** The same check, named for expect-style runners (Jest, Vitest). */
export declare function expectNoLeak(result: RunResult): void;
/** The failure message for a result. */
export declare function describe(result: RunResult): string;
/** The culprit lines: suspects first, then surviving allocation sites. */
export declare function culpritLines(result: RunResult, max?: number): string[];
