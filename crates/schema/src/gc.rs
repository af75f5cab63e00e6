//! `leakhound.gc/v1`: what `leakhound gc --json` prints, and the `gc_trace` object inside
//! `leakhound.run/v1`.
//!
//! The producer is `leakhound-gctrace` (its `Analyzer::analysis`); it re-exports every type
//! here under its old path, so `leakhound_gctrace::GcAnalysis` and
//! `leakhound_schema::gc::GcAnalysis` are one type. Sizes are MB (2^20 bytes), times are
//! milliseconds or seconds as the field name says.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON schema name of [`GcAnalysis`].
pub const SCHEMA: &str = "leakhound.gc/v1";

/// Which collector ran, as named by the first words after `ms: ` (or the NVP `gc=` key).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Collector {
    /// `Scavenge` (young generation, every version).
    #[default]
    Scavenge,
    /// `Minor Mark-Compact` (Node 18/20 with `--minor-mc`).
    MinorMarkCompact,
    /// `Minor Mark-Sweep` (Node 22+ with `--minor-ms`).
    MinorMarkSweep,
    /// `Incremental Minor Mark-Sweep` (newer V8 sources).
    IncrementalMinorMarkSweep,
    /// `Mark-sweep`: Node 18's name for the major collector.
    MarkSweep,
    /// `Mark-Compact`: the atomic major collector (Node 20+).
    MarkCompact,
    /// `Incremental Mark-Compact` (Node 26).
    IncrementalMarkCompact,
}

impl Collector {
    /// Every variant, in a fixed order (used to index per-collector tables).
    pub const ALL: [Collector; 7] = [
        Collector::Scavenge,
        Collector::MinorMarkCompact,
        Collector::MinorMarkSweep,
        Collector::IncrementalMinorMarkSweep,
        Collector::MarkSweep,
        Collector::MarkCompact,
        Collector::IncrementalMarkCompact,
    ];

    /// A full (old-generation) collection: its heap-after is the live set.
    pub fn is_major(self) -> bool {
        matches!(
            self,
            Collector::MarkSweep | Collector::MarkCompact | Collector::IncrementalMarkCompact
        )
    }

    /// The name V8 prints.
    pub fn name(self) -> &'static str {
        match self {
            Collector::Scavenge => "Scavenge",
            Collector::MinorMarkCompact => "Minor Mark-Compact",
            Collector::MinorMarkSweep => "Minor Mark-Sweep",
            Collector::IncrementalMinorMarkSweep => "Incremental Minor Mark-Sweep",
            Collector::MarkSweep => "Mark-sweep",
            Collector::MarkCompact => "Mark-Compact",
            Collector::IncrementalMarkCompact => "Incremental Mark-Compact",
        }
    }

    /// The JSON spelling (`scavenge`, `mark-compact` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Collector::Scavenge => "scavenge",
            Collector::MinorMarkCompact => "minor-mark-compact",
            Collector::MinorMarkSweep => "minor-mark-sweep",
            Collector::IncrementalMinorMarkSweep => "incremental-minor-mark-sweep",
            Collector::MarkSweep => "mark-sweep",
            Collector::MarkCompact => "mark-compact",
            Collector::IncrementalMarkCompact => "incremental-mark-compact",
        }
    }

    /// Position in [`Collector::ALL`], for per-collector tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Which trace flavour a GC line came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `--trace-gc`.
    Plain,
    /// `--trace-gc-nvp` up to Node 24: `key=value` pairs.
    NvpKeyValue,
    /// `--trace-gc-nvp` from Node 25: `GC: {json}`.
    NvpJson,
}

/// The message of an out-of-memory `FATAL ERROR` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FatalReason {
    /// `Reached heap limit`.
    ReachedHeapLimit,
    /// `Ineffective mark-compacts near heap limit`.
    IneffectiveMarkCompacts,
    /// Another text before `Allocation failed - JavaScript heap out of memory`.
    Other,
}

/// Direction of a Mann–Kendall test at the requested significance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Increasing,
    Decreasing,
    None,
}

/// One point: seconds since the isolate started, and a value in MB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    pub t_s: f64,
    pub mb: f64,
}

/// The four answers `leakhound gc` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "GcVerdict")]
pub enum Verdict {
    /// The live set grows steadily, or the process died out of memory.
    Leak,
    /// Flat live set but heavy allocation or GC time: garbage, not retention.
    AllocationPressure,
    Healthy,
    /// Too few major GCs to tell.
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Leak => "leak",
            Verdict::AllocationPressure => "allocation-pressure",
            Verdict::Healthy => "healthy",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// Where `heap_limit_mb` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HeapLimitSource {
    /// Given by the caller (`--heap-limit`, or read over the inspector by `run`).
    Flag,
    /// The heap size at the out-of-memory crash.
    OomPeak,
}

impl HeapLimitSource {
    pub fn as_str(self) -> &'static str {
        match self {
            HeapLimitSource::Flag => "flag",
            HeapLimitSource::OomPeak => "oom-peak",
        }
    }
}

/// Counts of the kinds of lines seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LineCounts {
    /// Every line pushed (including overlong ones).
    pub total: u64,
    /// GC trace lines (any format, any isolate), not counting the OOM ring-buffer copies.
    pub gc_events: u64,
    /// Other V8 heap-tracing lines (`--trace-gc-verbose` tables and the like).
    pub gc_info: u64,
    /// Lines that start like a GC line (`[pid:0x…] … ms: `) but could not be parsed.
    pub malformed_gc: u64,
    /// Lines that are not GC output (the application's own), skipped.
    pub unrecognised: u64,
    /// Lines longer than the cap, skipped without buffering.
    pub overlong: u64,
    /// Lines belonging to the out-of-memory banner.
    pub oom_banner: u64,
    /// Blank lines.
    pub blank: u64,
}

/// A GC entry recovered from the OOM banner's ring buffer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RingGc {
    pub collector: Collector,
    pub t_ms: f64,
    pub before_mb: f64,
    pub after_mb: f64,
    /// The entry was cut off (fields after the sizes are missing).
    pub truncated: bool,
    pub raw: String,
}

/// Per-collector statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CollectorStats {
    pub collector: Collector,
    /// The name V8 prints (`Mark-Compact`), for people.
    pub name: String,
    pub count: u64,
    pub pause_p50_ms: f64,
    pub pause_p99_ms: f64,
    pub pause_max_ms: f64,
    pub pause_total_ms: f64,
    /// Main-thread incremental marking time attributed to these GCs.
    pub incremental_marking_ms: f64,
    pub freed_mb_total: f64,
    pub freed_mb_mean: f64,
    /// Mean of (before − after) / before.
    pub freed_share_mean: f64,
}

/// The trend of the live set after warm-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LiveSetTrend {
    /// Theil–Sen slope.
    pub slope_mb_per_min: f64,
    /// R² of the least-squares line.
    pub r2: f64,
    pub mann_kendall_z: f64,
    pub mann_kendall_p: f64,
    pub kendall_tau: f64,
    pub direction: Trend,
    /// Points the trend was computed from, and the time they span.
    pub points: usize,
    pub span_s: f64,
}

/// The heap after each major GC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LiveSet {
    /// Major GCs seen (the series below may be decimated).
    pub major_gcs: u64,
    pub samples: Vec<Point>,
    /// Leading samples left out of the trend as warm-up.
    pub warmup_excluded: usize,
    pub trend: Option<LiveSetTrend>,
    pub first_mb: Option<f64>,
    pub last_mb: Option<f64>,
    pub peak_mb: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IneffectiveStreak {
    /// Ineffective major GCs in a row at the end of the log.
    pub current: u64,
    pub longest: u64,
    /// A major GC is ineffective when it frees less than this share of the heap near the limit.
    pub freed_share_below: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AllocationRate {
    /// Young-generation growth between GCs over the time between them, whole run.
    pub mb_per_s: Option<f64>,
    /// The same over the last 64 GC intervals.
    pub recent_mb_per_s: Option<f64>,
    pub allocated_mb: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OomReport {
    pub fatal_reason: Option<FatalReason>,
    pub fatal_line: Option<String>,
    /// GC entries recovered from the `Last few GCs` ring buffer.
    pub last_gcs: Vec<RingGc>,
    pub native_stack_frames: u64,
}

/// Mutator utilisation V8 printed last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Mu {
    pub average: f64,
    pub current: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

/// Everything `leakhound gc --json` prints (schema `leakhound.gc/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GcAnalysis {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub verdict: Verdict,
    pub oom: bool,
    /// Sentences with numbers, most decisive first.
    pub evidence: Vec<String>,
    pub lines: LineCounts,
    pub formats: Vec<Format>,
    pub pid: Option<u32>,
    pub gc_events: u64,
    /// Events from other pids/isolates than the first one seen (not analysed).
    pub other_isolate_events: u64,
    pub duration_s: f64,
    pub collectors: Vec<CollectorStats>,
    /// Share of wall time spent in GC pauses and incremental marking (0..1).
    pub gc_share: Option<f64>,
    pub gc_time_ms: f64,
    pub allocation: AllocationRate,
    pub live_set: LiveSet,
    pub ineffective_streak: IneffectiveStreak,
    pub heap_limit_mb: Option<f64>,
    /// `flag` (given by the caller) or `oom-peak` (the heap size at the crash).
    pub heap_limit_source: Option<HeapLimitSource>,
    /// Projected seconds until the live set reaches the heap limit (0 after an OOM).
    pub time_to_oom_s: Option<f64>,
    pub mu: Option<Mu>,
    pub reasons: Vec<ReasonCount>,
    pub oom_report: Option<OomReport>,
    pub last_gc_lines: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_sets_keep_their_json_spelling() {
        for c in Collector::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(Collector::ALL[c.index()], c);
        }
        assert_eq!(
            serde_json::to_value(Verdict::AllocationPressure).unwrap(),
            "allocation-pressure"
        );
        assert_eq!(
            serde_json::to_value(HeapLimitSource::OomPeak).unwrap(),
            HeapLimitSource::OomPeak.as_str()
        );
        assert_eq!(serde_json::to_value(Trend::None).unwrap(), "none");
        assert_eq!(
            serde_json::to_value(FatalReason::IneffectiveMarkCompacts).unwrap(),
            "ineffective-mark-compacts"
        );
        assert_eq!(
            serde_json::to_value(Format::NvpKeyValue).unwrap(),
            "nvp-key-value"
        );
    }
}
