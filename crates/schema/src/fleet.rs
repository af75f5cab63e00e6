//! `leakhound.fleet/v1`: the JSON result of `leakhound fleet --json`.
//!
//! One object per instance (the Prometheus `instance` label) with flat keys, so that `jq
//! '.instances[] | select(.verdict == "leak") | .instance'` is all an alert script needs.
//! Byte figures are bytes, rates bytes per hour, times seconds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::run::Verdict;

pub const SCHEMA: &str = "leakhound.fleet/v1";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FleetReport {
    pub schema: String,
    /// The Prometheus base URL that was read.
    pub prometheus: String,
    /// The series selector given with `--selector` (`{}` when none).
    pub selector: String,
    /// The heap metric analysed (detected, or given with `--metric`).
    pub metric: String,
    pub window_s: f64,
    pub step_s: f64,
    /// Unix seconds of the window's end.
    pub end_unix_s: f64,
    /// How many HTTP requests were made to Prometheus (bounded, whatever the instance count).
    pub queries: u32,
    /// `leak` when any instance leaks, `no-leak` when every instance was judged and none
    /// leaks, else `inconclusive`.
    pub verdict: Verdict,
    /// Ranked by leak rate (leaks first, fastest first).
    pub instances: Vec<FleetInstance>,
    /// Jobs whose instances (two or more) all leak at a similar rate: the job leaks, not one
    /// pod.
    #[serde(default)]
    pub jobs: Vec<FleetJob>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FleetInstance {
    /// The Prometheus `instance` label, e.g. `127.0.0.1:9100`.
    pub instance: String,
    /// The Prometheus `job` label.
    pub job: String,
    pub verdict: Verdict,
    /// Stretches between restarts (1 when the process never restarted in the window).
    pub segments: u32,
    /// Points read for this instance over the window.
    pub points: u32,
    /// The post-GC floor at the start of the window (first segment) and at its end (last).
    pub floor_start_bytes: Option<f64>,
    pub floor_end_bytes: Option<f64>,
    /// Theil–Sen slope of the floor (the segment the verdict rests on), bytes per hour.
    pub bytes_per_hour: Option<f64>,
    /// Sen's 95 % interval for `bytes_per_hour`.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// One-sided Mann–Kendall p-value that the floor rises.
    pub mann_kendall_p: Option<f64>,
    /// Projected seconds until the heap reaches `heap_limit_bytes`; absent when no limit is
    /// known or the floor does not rise.
    pub time_to_oom_s: Option<f64>,
    /// The limit used for `time_to_oom_s`, and where it came from (`flag`, `metric`,
    /// `restart-peak`).
    pub heap_limit_bytes: Option<f64>,
    pub heap_limit_source: Option<String>,
    /// Restarts seen in the window (start time changed, or the floor fell by more than half).
    pub restarts: u32,
    /// The highest heap value reached before each restart, in order.
    #[serde(default)]
    pub restart_peaks_bytes: Vec<f64>,
    /// Sentences with numbers, most decisive first.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FleetJob {
    pub job: String,
    pub instances: u32,
    /// Median leak rate over the job's instances.
    pub bytes_per_hour: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_flat_and_round_trip() {
        let r = FleetReport {
            schema: SCHEMA.into(),
            verdict: Verdict::Leak,
            instances: vec![FleetInstance {
                instance: "127.0.0.1:9100".into(),
                job: "api".into(),
                verdict: Verdict::NoLeak,
                bytes_per_hour: Some(1.5),
                ..Default::default()
            }],
            ..Default::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["verdict"], "leak");
        let i = &v["instances"][0];
        assert_eq!(i["instance"], "127.0.0.1:9100");
        assert_eq!(i["verdict"], "no-leak");
        assert_eq!(i["bytes_per_hour"], 1.5);
        assert!(i["time_to_oom_s"].is_null());
        let back: FleetReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        // The published JSON Schema names every flat key of an instance.
        let schema = serde_json::to_value(schemars::schema_for!(FleetReport)).unwrap();
        let props = &schema["$defs"]["FleetInstance"]["properties"];
        for key in [
            "instance",
            "job",
            "verdict",
            "segments",
            "floor_start_bytes",
            "floor_end_bytes",
            "bytes_per_hour",
            "ci_low",
            "ci_high",
            "time_to_oom_s",
            "restarts",
            "evidence",
        ] {
            assert!(props.get(key).is_some(), "{key} missing from {props}");
        }
    }
}
