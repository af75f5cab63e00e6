//! `leakhound fleet`: read every Node instance's heap series from a Prometheus server and
//! judge each one (leak / no-leak / inconclusive), ranked by leak rate.
//!
//! leakhound reads the engine the fleet already runs; it does not scrape anything itself.
//! [`endpoint`] accepts loopback URLs only, [`prom`] asks a bounded number of
//! `query_range` requests whatever the fleet size, and [`analysis`] judges the series with
//! pure functions (the method is documented there).

pub mod analysis;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod prom;

use std::collections::HashMap;
use std::time::Duration;

use leakhound_schema::fleet::{FleetReport, SCHEMA};
use leakhound_schema::Verdict;

pub use endpoint::Endpoint;
pub use error::FleetError;
pub use prom::Series;

/// Heap metrics tried in order when `--metric` is not given: prom-client's default metric,
/// then OpenTelemetry's (`v8js.memory.heap.used`, as the Prometheus exporter names it, with
/// and without the unit suffix).
pub const HEAP_METRICS: [&str; 3] = [
    "nodejs_heap_size_used_bytes",
    "v8js_memory_heap_used_bytes",
    "v8js_memory_heap_used",
];
/// prom-client's process start time (changes at each restart).
pub const START_TIME_METRIC: &str = "process_start_time_seconds";
/// OpenTelemetry's heap limit, summed over heap spaces.
pub const OTEL_LIMIT_METRICS: [&str; 2] =
    ["v8js_memory_heap_limit_bytes", "v8js_memory_heap_limit"];

/// What to read.
#[derive(Debug, Clone)]
pub struct Query {
    pub prometheus: String,
    /// A series selector such as `{job="api"}`; empty for every series.
    pub selector: String,
    pub window_s: f64,
    pub step_s: f64,
    /// The heap metric; detected from [`HEAP_METRICS`] when `None`.
    pub metric: Option<String>,
    /// `--heap-limit`, bytes: used for every instance.
    pub heap_limit_bytes: Option<f64>,
    /// Unix seconds of the window's end.
    pub end_unix_s: f64,
    pub timeout: Duration,
}

/// Check a selector: `{…}` with balanced quotes, or empty.
pub fn check_selector(s: &str) -> Result<String, FleetError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    if !(t.starts_with('{') && t.ends_with('}')) {
        return Err(FleetError::BadInput(format!(
            "--selector {s}: expected label matchers in braces, e.g. '{{job=\"api\"}}'"
        )));
    }
    Ok(t.to_string())
}

/// Read the fleet and judge it.
pub fn read_fleet(q: &Query) -> Result<FleetReport, FleetError> {
    let endpoint = Endpoint::parse(&q.prometheus)?;
    let selector = check_selector(&q.selector)?;
    if !(q.step_s.is_finite() && q.step_s > 0.0 && q.window_s.is_finite() && q.window_s >= q.step_s)
    {
        return Err(FleetError::BadInput(format!(
            "--window ({} s) must be at least one --step ({} s)",
            q.window_s, q.step_s
        )));
    }
    let mut client = prom::Client {
        endpoint,
        start: q.end_unix_s - q.window_s,
        end: q.end_unix_s,
        step: q.step_s,
        timeout: q.timeout,
        requests: 0,
    };
    let candidates: Vec<String> = match &q.metric {
        Some(m) => vec![m.clone()],
        None => HEAP_METRICS.iter().map(|s| s.to_string()).collect(),
    };
    let mut found = None;
    for m in &candidates {
        let series = client.query_range(&prom::per_instance("sum", m, &selector))?;
        if !series.is_empty() {
            found = Some((m.clone(), series));
            break;
        }
    }
    let Some((metric, heap)) = found else {
        return Err(FleetError::TooLittleData(format!(
            "no series of {} match {} in the last {} s at {}",
            candidates.join(" or "),
            if selector.is_empty() { "{}" } else { &selector },
            q.window_s,
            q.prometheus
        )));
    };
    let start_times =
        client.query_range(&prom::per_instance("max", START_TIME_METRIC, &selector))?;
    let mut limits: HashMap<(String, String), f64> = HashMap::new();
    if metric.starts_with("v8js_") {
        for lm in OTEL_LIMIT_METRICS {
            let s = client.query_range(&prom::per_instance("sum", lm, &selector))?;
            if !s.is_empty() {
                for x in s {
                    if let Some(&(_, v)) = x.points.last() {
                        limits.insert((x.job, x.instance), v);
                    }
                }
                break;
            }
        }
    }
    let mut report = analyse(&heap, &start_times, &limits, q.heap_limit_bytes);
    report.prometheus = q.prometheus.clone();
    report.selector = if selector.is_empty() {
        "{}".into()
    } else {
        selector
    };
    report.metric = metric;
    report.window_s = q.window_s;
    report.step_s = q.step_s;
    report.end_unix_s = q.end_unix_s;
    report.queries = client.requests;
    if report
        .instances
        .iter()
        .all(|i| (i.points as usize) < analysis::MIN_POINTS)
    {
        let most = report.instances.iter().map(|i| i.points).max().unwrap_or(0);
        return Err(FleetError::TooLittleData(format!(
            "too little data: at most {most} points per instance in the window (at least {} are needed): widen --window or shorten --step",
            analysis::MIN_POINTS
        )));
    }
    Ok(report)
}

/// Judge every instance (pure: the series in, the document out).
pub fn analyse(
    heap: &[Series],
    start_times: &[Series],
    limits: &HashMap<(String, String), f64>,
    heap_limit_flag: Option<f64>,
) -> FleetReport {
    let starts: HashMap<(&str, &str), &[(f64, f64)]> = start_times
        .iter()
        .map(|s| ((s.job.as_str(), s.instance.as_str()), s.points.as_slice()))
        .collect();
    let mut instances: Vec<_> = heap
        .iter()
        .map(|s| {
            let key = (s.job.clone(), s.instance.clone());
            let limit = heap_limit_flag
                .map(|b| (b, "flag"))
                .or_else(|| limits.get(&key).map(|&b| (b, "metric")));
            analysis::judge(&analysis::InstanceData {
                job: &s.job,
                instance: &s.instance,
                heap: &s.points,
                start_times: starts
                    .get(&(s.job.as_str(), s.instance.as_str()))
                    .copied()
                    .unwrap_or(&[]),
                heap_limit: limit,
            })
        })
        .collect();
    analysis::rank(&mut instances);
    let jobs = analysis::leaking_jobs(&instances);
    let verdict = if instances.iter().any(|i| i.verdict == Verdict::Leak) {
        Verdict::Leak
    } else if !instances.is_empty() && instances.iter().all(|i| i.verdict == Verdict::NoLeak) {
        Verdict::NoLeak
    } else {
        Verdict::Inconclusive
    };
    FleetReport {
        schema: SCHEMA.to_string(),
        verdict,
        instances,
        jobs,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(instance: &str, values: impl Fn(usize) -> f64) -> Series {
        Series {
            job: "api".into(),
            instance: instance.into(),
            points: (0..40)
                .map(|i| (1.7e9 + 30.0 * i as f64, values(i)))
                .collect(),
        }
    }

    #[test]
    fn limits_come_from_the_flag_first_then_the_metric() {
        const MIB: f64 = 1024.0 * 1024.0;
        let heap = vec![
            series("a", |i| 100.0 * MIB + i as f64 * MIB),
            series("b", |i| 100.0 * MIB + i as f64 * 1.1 * MIB),
            series("c", |i| 50.0 * MIB + (i % 3) as f64 * MIB),
        ];
        let mut limits = HashMap::new();
        limits.insert(("api".to_string(), "a".to_string()), 400.0 * MIB);
        let r = analyse(&heap, &[], &limits, None);
        assert_eq!(r.verdict, Verdict::Leak);
        let get = |r: &FleetReport, n: &str| {
            r.instances
                .iter()
                .find(|i| i.instance == n)
                .cloned()
                .unwrap()
        };
        assert_eq!(get(&r, "a").heap_limit_source.as_deref(), Some("metric"));
        assert!(get(&r, "a").time_to_oom_s.is_some());
        assert_eq!(get(&r, "b").heap_limit_source, None);
        assert_eq!(get(&r, "c").verdict, Verdict::NoLeak);
        // Two of three api instances leak: not the job.
        assert!(r.jobs.is_empty());
        let r = analyse(&heap, &[], &limits, Some(1024.0 * MIB));
        assert_eq!(get(&r, "a").heap_limit_source.as_deref(), Some("flag"));
        assert_eq!(get(&r, "b").heap_limit_bytes, Some(1024.0 * MIB));
        // Without the healthy one, the job leaks as a whole.
        let r = analyse(&heap[..2], &[], &limits, None);
        assert_eq!(r.jobs.len(), 1);
        assert_eq!(r.jobs[0].job, "api");
    }

    #[test]
    fn selectors_need_braces() {
        assert_eq!(check_selector("").unwrap(), "");
        assert_eq!(check_selector(" {job=\"api\"} ").unwrap(), "{job=\"api\"}");
        assert!(matches!(
            check_selector("job=\"api\""),
            Err(FleetError::BadInput(_))
        ));
    }
}
