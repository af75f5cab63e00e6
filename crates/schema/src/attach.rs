//! `leakhound.attach/v1`: the JSON result of `leakhound attach --json`.
//!
//! A watch of a process leakhound did not start: the figures sampled over time, the fit of
//! the post-GC heap against time (bytes per second; `bytes_per_hour` for people), the
//! Mann–Kendall test, the time to out-of-memory against the process's own heap limit, and
//! what `--alloc-sites` and `--snapshots` found. The verdict uses the run's enum, so one `jq
//! .verdict` works for both. Byte figures are bytes, times seconds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::run::{AllocSiteOut, SuspectOut, Verdict};

pub const SCHEMA: &str = "leakhound.attach/v1";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AttachReport {
    pub schema: String,
    /// `leak`, `no-leak` or `inconclusive`; `interrupted` when Ctrl-C ended the watch first.
    pub verdict: Verdict,
    /// Why the verdict is what it is, in one sentence with numbers.
    pub reason: String,
    /// The watched process's id (as the process reports it).
    pub pid: u32,
    /// The inspector's address, `127.0.0.1:PORT`.
    pub inspector: String,
    /// Whether leakhound opened the inspector (SIGUSR1) and closed it again on detach.
    pub opened_inspector: bool,
    /// The process's `process.version`, e.g. `v20.20.2`.
    pub node_version: Option<String>,
    /// `forced-gc` (a full GC before each sample, `--force-gc`) or `gc-observer` (the heap
    /// right after each major GC the process did by itself).
    pub method: AttachMethod,
    /// The watch's planned length and sampling period.
    pub duration_s: f64,
    pub sample_every_s: f64,
    /// The watch's actual length.
    pub watched_s: f64,
    /// Every sample, in time order.
    pub samples: Vec<AttachSample>,
    /// The series the verdict regresses on time: `heap_used` of the samples after a forced
    /// GC, or the post-major-GC heap the observer recorded.
    pub floor: Vec<FloorPoint>,
    /// Theil–Sen slope of `floor` against time, bytes per second, with Sen's 95 % interval.
    pub slope_bytes_per_second: Option<f64>,
    pub slope_ci_bytes_per_second: Option<[f64; 2]>,
    /// The same slope and interval per hour.
    pub bytes_per_hour: Option<f64>,
    pub ci_bytes_per_hour: Option<[f64; 2]>,
    /// R² of the robust line.
    pub r_squared: Option<f64>,
    /// One-sided Mann–Kendall p-value that the floor rises.
    pub mann_kendall_p: Option<f64>,
    /// `v8.getHeapStatistics().heap_size_limit`.
    pub heap_limit_bytes: Option<f64>,
    /// Projected seconds until the floor reaches the heap limit at the fitted slope; absent
    /// when the floor does not rise.
    pub time_to_oom_s: Option<f64>,
    /// GC activity seen by the observer over the watch (forced GCs included).
    pub gc: GcActivity,
    /// Allocation sites of the objects still alive at the end (`--alloc-sites`).
    #[serde(default)]
    pub alloc_survivors: Vec<AllocSiteOut>,
    pub alloc_sampling_interval: Option<u64>,
    /// Heap-snapshot suspects of the three-snapshot comparison (`--snapshots`).
    #[serde(default)]
    pub suspects: Vec<SuspectOut>,
    /// The snapshots taken, each with the pause it cost the process.
    #[serde(default)]
    pub snapshots: Vec<SnapshotOut>,
    /// Things to know that do not change the verdict (a snapshot refused for lack of
    /// headroom, the profiler could not start ...).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// How the post-GC heap was obtained.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AttachMethod {
    ForcedGc,
    #[default]
    GcObserver,
}

/// One sample of `process.memoryUsage()`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AttachSample {
    /// Seconds since the watch began.
    pub t_s: f64,
    pub heap_used: f64,
    pub heap_total: f64,
    pub external: f64,
    pub rss: f64,
    /// Whether a full GC was forced just before this sample.
    pub after_forced_gc: bool,
    /// How long the forced GC paused the process, seconds.
    pub gc_pause_s: Option<f64>,
}

/// One point of the series the verdict is fitted on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FloorPoint {
    /// Seconds since the watch began.
    pub t_s: f64,
    pub heap_used: f64,
}

/// GC activity over the watch, from the `gc` performance entries.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct GcActivity {
    pub count: u64,
    pub major_count: u64,
    /// Summed GC durations, seconds.
    pub pause_s: f64,
    /// `pause_s` over the watch's length, 0..1.
    pub share: Option<f64>,
}

/// One heap snapshot written by `--snapshots`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SnapshotOut {
    pub path: String,
    pub bytes: u64,
    /// How long the snapshot took: the process's JS does not run meanwhile.
    pub pause_s: f64,
    /// Seconds since the watch began.
    pub t_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_and_method_spell_as_documented() {
        let r = AttachReport {
            schema: SCHEMA.into(),
            verdict: Verdict::NoLeak,
            method: AttachMethod::ForcedGc,
            bytes_per_hour: Some(2.0),
            ..Default::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["verdict"], "no-leak");
        assert_eq!(v["method"], "forced-gc");
        assert_eq!(v["bytes_per_hour"], 2.0);
        let back: AttachReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
