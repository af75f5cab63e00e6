//! `leakhound.run/v1`: the JSON result of `leakhound run --json`.
//!
//! The fields named in DESIGN.md (`schema` … `samples`) keep their meaning forever; the rest
//! are additions. Byte figures are bytes, times are seconds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::alloc_tree::{AllocTree, AllocTreeNode, AllocTrees, SourceExcerpt};
pub use crate::evidence::{
    AllocSiteOut, FitAxis, FitOut, RunSample, SeriesName, SourceLine, SuspectOut,
};
pub use crate::verdict::{LeakKind, Phase, Verdict};

pub const SCHEMA: &str = "leakhound.run/v1";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RunReport {
    pub schema: String,
    /// What the run decided; `target-failed` and `interrupted` are not verdicts about the
    /// target's memory, and `reason` says why.
    pub verdict: Verdict,
    /// Which memory grows: `js-heap`, `external`, `rss`, or `none`.
    pub leak_kind: LeakKind,
    pub oom: bool,
    pub duration_s: f64,
    pub requests: u64,
    pub retained_bytes_per_request: f64,
    pub heap_limit_bytes: u64,
    pub evidence: Vec<String>,
    pub samples: Vec<RunSample>,

    /// Sen's 95 % interval for `retained_bytes_per_request`.
    pub retained_bytes_per_request_ci: Option<[f64; 2]>,
    pub r_squared: Option<f64>,
    pub mann_kendall_p: Option<f64>,
    pub requests_per_second: f64,
    pub http_errors: u64,
    pub transport_errors: u64,
    /// e.g. "at 300 req/s a 2 GB heap fills in about 5.5 hours".
    pub projection: Option<String>,
    pub projection_seconds: Option<f64>,
    /// The allocation-pressure finding, reported beside a `no-leak` verdict.
    pub allocation_pressure: Option<String>,
    pub allocated_bytes_per_request: Option<f64>,
    /// GC time over wall time during the load rounds, 0..1. GC time is the pauses plus the
    /// main-thread incremental marking of the app's own GCs (leakhound's forced GCs excluded):
    /// the same definition as `gc_trace.gc_share`, which covers the whole process instead.
    pub gc_time_share: Option<f64>,
    pub gc_count: u64,
    pub major_gc_count: u64,
    /// The GC trace's last lines (evidence of an out-of-memory crash).
    pub gc_last_lines: Vec<String>,
    /// The GC trace's own analysis (`leakhound.gc/v1`), when GC lines were seen.
    pub gc_trace: Option<crate::gc::GcAnalysis>,
    /// The app's `[MEM] label: N MB` lines.
    pub mem_lines: Vec<MemLineOut>,
    pub target_failed: Option<String>,
    pub target_stderr_tail: Vec<String>,
    pub command: Vec<String>,
    pub port: u16,
    pub target_pid: u32,

    // Issue 6 additions
    /// GC events over time, downsampled to at most [`MAX_GC_EVENTS`] by the producer.
    #[serde(default)]
    pub gc_events: Vec<GcEventOut>,
    /// Throughput and latency of each load round.
    #[serde(default)]
    pub rounds: Vec<RoundOut>,
    /// Allocation sites over all allocations, collected garbage included (hot-path garbage).
    #[serde(default)]
    pub alloc_all: Vec<AllocSiteOut>,
    /// Allocation sites of what survived (where a leak shows up).
    #[serde(default)]
    pub alloc_survivors: Vec<AllocSiteOut>,
    /// Heap-snapshot suspects with their retainer paths.
    #[serde(default)]
    pub suspects: Vec<SuspectOut>,
    /// The sampling heap profiler's interval in bytes, when `alloc_*` were sampled.
    #[serde(default)]
    pub alloc_sampling_interval: Option<u64>,
    /// The saved `.heapprofile` files (all allocations, then survivors).
    #[serde(default)]
    pub alloc_profiles: Vec<String>,
    /// The saved `.heapsnapshot` files (after warm-up, after the load rounds, after idle).
    #[serde(default)]
    pub snapshots: Vec<String>,
    /// What went wrong while capturing allocation sites or snapshots (the verdict stands).
    #[serde(default)]
    pub culprit_notes: Vec<String>,
    /// The load engine's cumulative summary over all rounds (`leakhound.load/v1`: latency
    /// percentiles, status codes, error kinds), when load was driven.
    #[serde(default)]
    pub load: Option<crate::load::LoadSummary>,

    // "One model of a run" additions
    /// Why the verdict is what it is when it is not a finding: what made a run inconclusive
    /// (and what to change), why the target failed, or that the run was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Things the user should know that do not change the verdict (some requests failed, the
    /// target listened on another port, a heap flag of the user's own was kept ...).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The fit the verdict was decided on, so renderers draw what was decided instead of
    /// re-fitting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitOut>,

    // Process shapes and real traffic additions
    /// Every Node process of the target's tree that was followed (cluster workers, forked
    /// children, wrappers), each with its own samples, verdict and worker threads.
    #[serde(default)]
    pub processes: Vec<crate::process::ProcessOut>,
    /// Which isolate the top-level verdict describes when it is not the serving process's
    /// main thread (`worker thread [worker 1] (lib/audit-worker.js) of pid 4242`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_in: Option<String>,
    /// Retained memory per endpoint, when several endpoints were driven in one run.
    #[serde(default)]
    pub endpoints: Vec<crate::endpoint::EndpointOut>,
    /// What drives the growth (`requests`, `time` ...); absent when nothing grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<crate::endpoint::Driver>,
    /// Retained bytes per unit of `driver` (equal to `retained_bytes_per_request` when the
    /// driver is requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes_per_unit: Option<f64>,
    /// The unit of `retained_bytes_per_unit` (`request`, `second`, `connection` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    // Culprit additions
    /// The culprit in one sentence with the line to change, when the hunt found one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit: Option<crate::culprit::CulpritOut>,
    /// Known library leak patterns matched on this run's evidence.
    #[serde(default)]
    pub library_patterns: Vec<crate::culprit::LibraryPatternOut>,
    /// Both sampling profiles' call trees, cut small, for the report's flame graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alloc_trees: Option<crate::alloc_tree::AllocTrees>,
    /// The app's source around each `source` line of the suspects and the culprit, read when
    /// the run ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_excerpts: Vec<crate::alloc_tree::SourceExcerpt>,
}

/// Parse a saved `leakhound.run/v1` result, refusing other JSON with one readable reason.
pub fn from_json(bytes: &[u8]) -> Result<RunReport, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    match v.get("schema").and_then(|s| s.as_str()) {
        Some(SCHEMA) => {}
        Some(other) => return Err(format!("schema is `{other}`, expected `{SCHEMA}`")),
        None => {
            return Err(format!(
                "not a leakhound run result (no `schema: {SCHEMA}`)"
            ))
        }
    }
    serde_json::from_value(v).map_err(|e| format!("invalid {SCHEMA} result ({e})"))
}

/// Producers keep at most this many GC events so the JSON and the HTML stay small.
pub const MAX_GC_EVENTS: usize = 2000;

/// One garbage collection, as `--trace-gc` reported it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct GcEventOut {
    /// Seconds since the target started.
    pub t_s: f64,
    /// Which collector ran (`scavenge`, `mark-compact` ...).
    pub collector: crate::gc::Collector,
    pub before_mb: f64,
    pub after_mb: f64,
    pub pause_ms: f64,
    /// (before - after) / before, 0..1.
    pub freed_share: f64,
}

/// One load round's throughput and latency.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RoundOut {
    /// End of the round, seconds since the run started.
    pub t_s: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MemLineOut {
    pub label: String,
    pub mb: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_fields_are_present() {
        let r = RunReport {
            schema: SCHEMA.into(),
            verdict: Verdict::Leak,
            leak_kind: LeakKind::JsHeap,
            oom: false,
            duration_s: 1.0,
            requests: 10,
            retained_bytes_per_request: 2.5,
            heap_limit_bytes: 1,
            evidence: vec!["x".into()],
            samples: vec![RunSample {
                t_s: 0.5,
                requests: 3,
                heap_used: 1,
                external: 2,
                array_buffers: 3,
                rss: 4,
                phase: Phase::Load,
            }],
            retained_bytes_per_request_ci: None,
            r_squared: None,
            mann_kendall_p: None,
            requests_per_second: 0.0,
            http_errors: 0,
            transport_errors: 0,
            projection: None,
            projection_seconds: None,
            allocation_pressure: None,
            allocated_bytes_per_request: None,
            gc_time_share: None,
            gc_count: 0,
            major_gc_count: 0,
            gc_last_lines: vec![],
            gc_trace: None,
            mem_lines: vec![],
            target_failed: None,
            target_stderr_tail: vec![],
            command: vec![],
            port: 0,
            target_pid: 0,
            ..Default::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        for k in [
            "schema",
            "verdict",
            "leak_kind",
            "oom",
            "duration_s",
            "requests",
            "retained_bytes_per_request",
            "heap_limit_bytes",
            "evidence",
            "samples",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        for k in [
            "t_s",
            "requests",
            "heap_used",
            "external",
            "array_buffers",
            "rss",
        ] {
            assert!(v["samples"][0].get(k).is_some(), "{k}");
        }
        let back: RunReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn foreign_json_is_refused_with_a_reason() {
        assert!(from_json(b"{").unwrap_err().contains("not JSON"));
        assert!(from_json(b"{}")
            .unwrap_err()
            .contains("not a leakhound run"));
        assert!(from_json(br#"{"schema":"x/v9"}"#)
            .unwrap_err()
            .contains("x/v9"));
        assert!(from_json(br#"{"schema":"leakhound.run/v1"}"#)
            .unwrap_err()
            .contains("invalid"));
        let ok = serde_json::to_vec(&RunReport {
            schema: SCHEMA.into(),
            ..Default::default()
        })
        .unwrap();
        assert!(from_json(&ok).is_ok());
    }

    #[test]
    fn json_without_the_issue_6_fields_still_parses() {
        let mut v = serde_json::to_value(RunReport::default()).unwrap();
        for k in [
            "gc_events",
            "rounds",
            "alloc_all",
            "alloc_survivors",
            "suspects",
        ] {
            assert!(v.as_object_mut().unwrap().remove(k).is_some(), "{k}");
        }
        let back: RunReport = serde_json::from_value(v).unwrap();
        assert!(back.gc_events.is_empty() && back.suspects.is_empty());
    }
}
