//! What a run measured and found, shared by the run, its processes and its threads: samples,
//! the fit a verdict was decided on, allocation sites and heap-snapshot suspects.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::verdict::Phase;

/// Which sample series a fit is over.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeriesName {
    #[default]
    HeapUsed,
    External,
    Rss,
}

/// What a fit's x axis counts.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FitAxis {
    /// Completed requests (the slope is bytes per request).
    #[default]
    Requests,
    /// Seconds since the run started (the slope is bytes per second).
    Seconds,
    /// Units of work a `--load-cmd` reported with `leakhound:count N` (the samples' `requests`
    /// hold the cumulative count; the slope is bytes per unit).
    Work,
    /// Calls of a `--workload` function (the samples' `requests` hold the cumulative count;
    /// the slope is bytes per iteration).
    Iterations,
}

/// A robust linear fit of one series (Theil–Sen slope with its 95 % interval).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FitOut {
    pub series: SeriesName,
    pub x: FitAxis,
    /// Bytes per unit of `x`.
    pub slope: f64,
    /// Bytes at x = 0.
    pub intercept: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub r_squared: f64,
    /// Indices into `samples` of the points the fit was made on.
    pub samples_used: Vec<usize>,
}

/// An allocation site: a serializable copy of `leakhound_profile::SiteStat`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AllocSiteOut {
    pub function: String,
    /// `file:line` (1-based) where the function starts, or the file alone when V8 gave no
    /// line. Mapped to the original source when the script has a source map.
    pub location: String,
    pub bytes: u64,
    /// Share of the profile's total, 0..1.
    pub share: f64,
    /// The function's position in the generated code V8 ran, when `location` was mapped
    /// through a source map (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<crate::alloc::Generated>,
}

/// A heap-snapshot suspect: what holds memory and the path that keeps it alive.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SuspectOut {
    pub title: String,
    pub bytes: u64,
    /// Share of the heap, 0..100.
    pub percent: f64,
    /// The retainer path a user reads, outermost first: app-first when a function of the app
    /// holds the suspect in its scope (Node's hops before it folded into one step such as
    /// `(Node internals: timers)`, ending in the holder, whose `declared` line is in
    /// `source`); else the shortest path from a GC root to the suspect.
    pub path: Vec<String>,
    /// The whole route from a GC root to the suspect that `path` stands for, unfolded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_path: Vec<String>,
    /// The same leak in another run has the same signature: its class, the shape of its
    /// app-first path (element indexes and Node's folded hops left out) and its holder, as 16
    /// hex digits (FNV-1a). Empty when not computed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature: String,
    /// Lines of the application's own sources that name the holder (`responseCache`): where
    /// it is declared and where it grows. The snapshots know the variable, not the line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<SourceLine>,
}

/// One source line that names a suspect's holder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SourceLine {
    /// `declared` or `grows` (a call such as `.set(`, `.push(`, or an indexed assignment).
    pub kind: String,
    /// `file:line`, 1-based, the file relative to the working directory when inside it.
    pub location: String,
    /// The line itself, trimmed (at most 160 characters).
    pub code: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RunSample {
    pub t_s: f64,
    pub requests: u64,
    pub heap_used: u64,
    pub external: u64,
    pub array_buffers: u64,
    pub rss: u64,
    pub phase: Phase,
}

/// `run` carries a flattened copy of an `alloc` site (the run depends on alloc, never the
/// other way round).
impl From<&crate::alloc::SiteStat> for AllocSiteOut {
    fn from(s: &crate::alloc::SiteStat) -> Self {
        AllocSiteOut {
            function: s.site.function.clone(),
            location: s.site.location(),
            bytes: s.bytes,
            share: s.share,
            generated: s.site.generated.clone(),
        }
    }
}
