//! The verdict enums every run-shaped document shares (`run`, `attach`, `processes[]`,
//! `threads[]`, `endpoints[]`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The run's decision.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Leak,
    NoLeak,
    #[default]
    Inconclusive,
    /// The target did not start, crashed without running out of memory, ran out of memory
    /// while starting, or most responses were not the expected status.
    TargetFailed,
    /// Stopped by the user (Ctrl-C, SIGTERM) or a closed output pipe before a verdict.
    Interrupted,
}

impl Verdict {
    /// The JSON spelling (`no-leak` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Leak => "leak",
            Verdict::NoLeak => "no-leak",
            Verdict::Inconclusive => "inconclusive",
            Verdict::TargetFailed => "target-failed",
            Verdict::Interrupted => "interrupted",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Verdict::Leak,
            Verdict::NoLeak,
            Verdict::Inconclusive,
            Verdict::TargetFailed,
            Verdict::Interrupted,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| format!("`{s}` is not a run verdict"))
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which memory grows.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LeakKind {
    /// The JavaScript heap (`heapUsed` after a forced full GC).
    JsHeap,
    /// Memory outside the heap owned by JS objects (Buffers, ArrayBuffers).
    External,
    /// Resident memory that neither the heap nor external memory explains.
    Rss,
    #[default]
    None,
}

impl LeakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::JsHeap => "js-heap",
            LeakKind::External => "external",
            LeakKind::Rss => "rss",
            LeakKind::None => "none",
        }
    }
}

impl std::fmt::Display for LeakKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the run a sample was taken.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    #[default]
    Baseline,
    Warmup,
    Load,
    Idle,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Baseline => "baseline",
            Phase::Warmup => "warmup",
            Phase::Load => "load",
            Phase::Idle => "idle",
        }
    }
}
