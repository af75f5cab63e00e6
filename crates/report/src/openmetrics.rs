//! OpenMetrics text exposition (what Prometheus scrapes from `gc --follow --metrics ADDR`):
//! pure functions from an analysis to the text, so the format is unit-tested without a
//! server.
//!
//! The metrics of `leakhound gc --follow`, each with the labels `source` (the trace: `stdin`
//! or a file name) and `pid` (when the trace names one):
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `leakhound_live_set_floor_bytes` | gauge | the live set after the last major GC (the post-GC floor) |
//! | `leakhound_live_set_slope_bytes_per_second` | gauge | Theil–Sen slope of the floor (warm-up excluded) |
//! | `leakhound_live_set_slope_low_bytes_per_second`, `…_high_…` | gauge | Sen's 95 % interval of that slope |
//! | `leakhound_time_to_oom_seconds` | gauge | projected time until the heap limit (absent without a limit or a rise) |
//! | `leakhound_heap_limit_bytes` | gauge | the limit used for it (absent when unknown) |
//! | `leakhound_gc_time_ratio` | gauge | share of wall time in GC pauses and incremental marking (0..1) |
//! | `leakhound_verdict` | gauge | 0 healthy, 1 leak, 2 allocation pressure, 3 inconclusive |
//! | `leakhound_oom` | gauge | 1 once the process has run out of memory |
//! | `leakhound_gc_events_total` | counter | GC events read |
//!
//! A gauge with no value yet (no major GC seen) has its `# TYPE` line and no sample, which
//! Prometheus reads as "no data" rather than a misleading 0. An alert rule is then as plain as
//! `leakhound_verdict == 1` or `leakhound_time_to_oom_seconds < 3600`.

use std::fmt::Write as _;

use leakhound_gctrace::{stats, GcAnalysis, Verdict};

/// The `Content-Type` of [`gc_exposition`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const MIB: f64 = 1024.0 * 1024.0;

/// The verdict as the `leakhound_verdict` gauge's value.
pub fn verdict_value(v: Verdict) -> f64 {
    match v {
        Verdict::Healthy => 0.0,
        Verdict::Leak => 1.0,
        Verdict::AllocationPressure => 2.0,
        Verdict::Inconclusive => 3.0,
    }
}

/// One metric family with at most one sample.
struct Family<'a> {
    name: &'a str,
    kind: &'a str,
    help: &'a str,
    value: Option<f64>,
}

/// A label value escaped as the text format wants it (`\\`, `\"`, `\n`).
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust's shortest round-trip form is valid OpenMetrics (`1e-7`, `123.5`, `42`).
        format!("{v}")
    }
}

/// The whole exposition for one GC analysis, ending with `# EOF`.
pub fn gc_exposition(an: &GcAnalysis, source: &str) -> String {
    let mut labels = format!("source=\"{}\"", escape_label(source));
    if let Some(pid) = an.pid {
        let _ = write!(labels, ",pid=\"{pid}\"");
    }
    let samples =
        &an.live_set.samples[an.live_set.warmup_excluded.min(an.live_set.samples.len())..];
    let xs: Vec<f64> = samples.iter().map(|p| p.t_s).collect();
    let ys: Vec<f64> = samples.iter().map(|p| p.mb * MIB).collect();
    let sen = (samples.len() >= leakhound_gctrace::analysis::MIN_TREND_POINTS)
        .then(|| stats::theil_sen_interval(&xs, &ys))
        .flatten();
    let families = [
        Family {
            name: "leakhound_live_set_floor_bytes",
            kind: "gauge",
            help: "Live set after the last major GC (the post-GC floor).",
            value: an.live_set.last_mb.map(|m| m * MIB),
        },
        Family {
            name: "leakhound_live_set_slope_bytes_per_second",
            kind: "gauge",
            help: "Theil-Sen slope of the post-GC floor, warm-up excluded.",
            value: sen.map(|f| f.slope),
        },
        Family {
            name: "leakhound_live_set_slope_low_bytes_per_second",
            kind: "gauge",
            help: "Lower end of Sen's 95% interval of the floor's slope.",
            value: sen.map(|f| f.lo),
        },
        Family {
            name: "leakhound_live_set_slope_high_bytes_per_second",
            kind: "gauge",
            help: "Upper end of Sen's 95% interval of the floor's slope.",
            value: sen.map(|f| f.hi),
        },
        Family {
            name: "leakhound_time_to_oom_seconds",
            kind: "gauge",
            help: "Projected time until the live set reaches the heap limit.",
            value: an.time_to_oom_s,
        },
        Family {
            name: "leakhound_heap_limit_bytes",
            kind: "gauge",
            help: "Heap limit used for the projection (--heap-limit, or the heap at an OOM).",
            value: an.heap_limit_mb.map(|m| m * MIB),
        },
        Family {
            name: "leakhound_gc_time_ratio",
            kind: "gauge",
            help: "Share of wall time spent in GC pauses and incremental marking.",
            value: an.gc_share,
        },
        Family {
            name: "leakhound_verdict",
            kind: "gauge",
            help: "0 healthy, 1 leak, 2 allocation pressure, 3 inconclusive.",
            value: Some(verdict_value(an.verdict)),
        },
        Family {
            name: "leakhound_oom",
            kind: "gauge",
            help: "1 once the process has run out of memory.",
            value: Some(if an.oom { 1.0 } else { 0.0 }),
        },
        Family {
            name: "leakhound_gc_events",
            kind: "counter",
            help: "GC events read from the trace.",
            value: Some(an.gc_events as f64),
        },
    ];
    exposition(&labels, &families)
}

/// The families as text with one label set, ending with `# EOF`.
fn exposition(labels: &str, families: &[Family<'_>]) -> String {
    let mut out = String::with_capacity(2048);
    for f in families {
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        if let Some(v) = f.value {
            let suffix = if f.kind == "counter" { "_total" } else { "" };
            let _ = writeln!(out, "{}{suffix}{{{labels}}} {}", f.name, number(v));
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The exposition of `leakhound attach … --metrics ADDR`: the same metric names as
/// [`gc_exposition`] (one dashboard and one alert rule for both), labelled
/// `source="attach"`, `pid` and `inspector`. The floor is the last post-GC heap; the verdict
/// gauge is 0 no leak, 1 leak, 3 inconclusive (so far).
pub fn attach_exposition(r: &leakhound_schema::attach::AttachReport) -> String {
    use leakhound_schema::Verdict as V;
    let labels = format!(
        "source=\"attach\",pid=\"{}\",inspector=\"{}\"",
        r.pid,
        escape_label(&r.inspector)
    );
    let ci = r.slope_ci_bytes_per_second;
    let families = [
        Family {
            name: "leakhound_live_set_floor_bytes",
            kind: "gauge",
            help: "Heap used after the last full GC (forced or observed).",
            value: r.floor.last().map(|p| p.heap_used),
        },
        Family {
            name: "leakhound_live_set_slope_bytes_per_second",
            kind: "gauge",
            help: "Theil-Sen slope of the post-GC heap against time.",
            value: r.slope_bytes_per_second,
        },
        Family {
            name: "leakhound_live_set_slope_low_bytes_per_second",
            kind: "gauge",
            help: "Lower end of Sen's 95% interval of the floor's slope.",
            value: ci.map(|c| c[0]),
        },
        Family {
            name: "leakhound_live_set_slope_high_bytes_per_second",
            kind: "gauge",
            help: "Upper end of Sen's 95% interval of the floor's slope.",
            value: ci.map(|c| c[1]),
        },
        Family {
            name: "leakhound_time_to_oom_seconds",
            kind: "gauge",
            help: "Projected time until the post-GC heap reaches the heap limit.",
            value: r.time_to_oom_s,
        },
        Family {
            name: "leakhound_heap_limit_bytes",
            kind: "gauge",
            help: "The process's heap limit (v8 heap_size_limit).",
            value: r.heap_limit_bytes,
        },
        Family {
            name: "leakhound_gc_time_ratio",
            kind: "gauge",
            help: "Share of wall time spent in GC, from the process's gc performance entries.",
            value: r.gc.share,
        },
        Family {
            name: "leakhound_verdict",
            kind: "gauge",
            help: "0 healthy, 1 leak, 2 allocation pressure, 3 inconclusive.",
            value: Some(match r.verdict {
                V::NoLeak => 0.0,
                V::Leak => 1.0,
                _ => 3.0,
            }),
        },
        Family {
            name: "leakhound_gc_events",
            kind: "counter",
            help: "GCs the process did while watched.",
            value: Some(r.gc.count as f64),
        },
    ];
    exposition(&labels, &families)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_gctrace::Analyzer;

    fn analysis(name: &str) -> GcAnalysis {
        let path = format!(
            "{}/../../tests/fixtures/gc-traces/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut a = Analyzer::new();
        a.push_bytes(&std::fs::read(path).unwrap());
        a.finish();
        a.analysis()
    }

    /// The sample line of `name`, if any.
    fn sample<'a>(text: &'a str, name: &str) -> Option<&'a str> {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}{{")))
            .and_then(|l| l.rsplit(' ').next())
    }

    #[test]
    fn a_leaking_trace_is_exposed_with_its_figures() {
        let an = analysis("node20-leak-oom.log");
        let t = gc_exposition(&an, "app \"x\".log");
        assert!(t.ends_with("# EOF\n"));
        assert!(t.contains("source=\"app \\\"x\\\".log\""), "{t}");
        assert_eq!(sample(&t, "leakhound_verdict"), Some("1"));
        assert_eq!(sample(&t, "leakhound_oom"), Some("1"));
        let floor: f64 = sample(&t, "leakhound_live_set_floor_bytes")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(floor, an.live_set.last_mb.unwrap() * MIB);
        let slope: f64 = sample(&t, "leakhound_live_set_slope_bytes_per_second")
            .unwrap()
            .parse()
            .unwrap();
        let lo: f64 = sample(&t, "leakhound_live_set_slope_low_bytes_per_second")
            .unwrap()
            .parse()
            .unwrap();
        assert!(slope > 0.0 && lo <= slope, "{slope} {lo}");
        // The trend's own slope (MB/min) and ours (bytes/s) agree.
        let mb_min = an.live_set.trend.as_ref().unwrap().slope_mb_per_min;
        assert!(
            (slope / (mb_min * MIB / 60.0) - 1.0).abs() < 1e-6,
            "{slope} vs {mb_min}"
        );
        assert_eq!(
            sample(&t, "leakhound_gc_events_total"),
            Some(an.gc_events.to_string().as_str())
        );
        // Every sample line belongs to a family announced just before it, and names are unique.
        let mut families = Vec::new();
        for l in t.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                families.push(rest.split(' ').next().unwrap().to_string());
            } else if !l.starts_with('#') {
                let name = l.split('{').next().unwrap();
                let fam = families.last().unwrap();
                assert!(name == fam || name == format!("{fam}_total"), "{l}");
            }
        }
        let n = families.len();
        families.dedup();
        assert_eq!(families.len(), n);
    }

    #[test]
    fn values_not_known_yet_have_no_sample() {
        let an = Analyzer::new().analysis();
        let t = gc_exposition(&an, "stdin");
        assert!(t.contains("# TYPE leakhound_live_set_floor_bytes gauge\n# HELP"));
        assert_eq!(sample(&t, "leakhound_live_set_floor_bytes"), None);
        assert_eq!(sample(&t, "leakhound_time_to_oom_seconds"), None);
        assert_eq!(sample(&t, "leakhound_verdict"), Some("3"));
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(0.5), "0.5");
    }
}

#[cfg(test)]
mod attach_tests {
    use super::*;
    use leakhound_schema::attach::{AttachReport, FloorPoint};

    #[test]
    fn attach_exposition_has_the_gc_names_and_the_process_labels() {
        let r = AttachReport {
            pid: 77,
            inspector: "127.0.0.1:9229".into(),
            verdict: leakhound_schema::Verdict::Leak,
            floor: vec![FloorPoint {
                t_s: 1.0,
                heap_used: 1234.0,
            }],
            slope_bytes_per_second: Some(10.5),
            slope_ci_bytes_per_second: Some([9.0, 12.0]),
            ..Default::default()
        };
        let t = attach_exposition(&r);
        let l = r#"{source="attach",pid="77",inspector="127.0.0.1:9229"}"#;
        for want in [
            format!("leakhound_live_set_floor_bytes{l} 1234\n"),
            format!("leakhound_live_set_slope_bytes_per_second{l} 10.5\n"),
            format!("leakhound_live_set_slope_low_bytes_per_second{l} 9\n"),
            format!("leakhound_verdict{l} 1\n"),
            format!("leakhound_gc_events_total{l} 0\n"),
        ] {
            assert!(t.contains(&want), "{want} in\n{t}");
        }
        // No limit known: the family is declared, with no sample.
        assert!(t.contains("# TYPE leakhound_heap_limit_bytes gauge\n# HELP"));
        assert!(!t.contains("leakhound_heap_limit_bytes{"));
        assert!(t.ends_with("# EOF\n"));
    }
}
