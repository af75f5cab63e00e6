//! `leakhound.run/v1`: the JSON result of `leakhound run --json`.
//!
//! The fields named in DESIGN.md (`schema` … `samples`) keep their meaning forever; the rest
//! are additions. Byte figures are bytes, times are seconds.

use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "leakhound.run/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    pub schema: String,
    /// `leak`, `no-leak` or `inconclusive` (a target that failed otherwise is `inconclusive`
    /// with `target_failed` set).
    pub verdict: String,
    /// `js-heap`, `external` or `none`.
    pub leak_kind: String,
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
    pub gc_time_share: Option<f64>,
    pub gc_count: u64,
    pub major_gc_count: u64,
    /// The GC trace's last lines (evidence of an out-of-memory crash).
    pub gc_last_lines: Vec<String>,
    /// The GC trace's own analysis (`leakhound.gc/v1`), when GC lines were seen.
    pub gc_trace: Option<serde_json::Value>,
    /// The app's `[MEM] label: N MB` lines.
    pub mem_lines: Vec<MemLineOut>,
    pub target_failed: Option<String>,
    pub target_stderr_tail: Vec<String>,
    pub command: Vec<String>,
    pub port: u16,
    pub target_pid: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSample {
    pub t_s: f64,
    pub requests: u64,
    pub heap_used: u64,
    pub external: u64,
    pub array_buffers: u64,
    pub rss: u64,
    /// `baseline`, `warmup`, `load` or `idle`.
    pub phase: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
            verdict: "leak".into(),
            leak_kind: "js-heap".into(),
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
                phase: "load".into(),
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
}
