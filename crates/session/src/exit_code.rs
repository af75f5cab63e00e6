//! Exit codes of `run` (DESIGN.md): one per verdict, so CI can tell them apart.

use leakhound_schema::Verdict;

pub const NO_LEAK: i32 = 0;
pub const LEAK: i32 = 1;
pub const INCONCLUSIVE: i32 = 3;
/// The target did not start, crashed without running out of memory, ran out of memory while
/// starting, or most of its answers were not the expected status.
pub const TARGET_FAILED: i32 = 4;
/// Interrupted by SIGINT/SIGTERM (the shell convention, 128 + 2).
pub const INTERRUPTED: i32 = 130;

/// The exit code a verdict implies.
pub fn of(verdict: Verdict) -> i32 {
    match verdict {
        Verdict::Leak => LEAK,
        Verdict::NoLeak => NO_LEAK,
        Verdict::Inconclusive => INCONCLUSIVE,
        Verdict::TargetFailed => TARGET_FAILED,
        Verdict::Interrupted => INTERRUPTED,
    }
}
