//! `decide()` on hand-made series: one test per rule and per state.

use std::time::Duration;

use leakhound_report::run_schema::{SeriesName, Verdict};

use super::*;
use crate::evidence;
use crate::inconclusive::Why;
use crate::observations::{LoadWindow, Observations, Stop};
use crate::report::{self, Captured};
use crate::verdict::{Phase, Sample, KIB, MIB};
use leakhound_schema::endpoint::Driver;

/// Deterministic jitter of about ±40 KB.
fn noise(i: usize) -> f64 {
    [13.0, -31.0, 7.0, 40.0, -22.0, 0.0, -9.0, 25.0, -38.0, 18.0][i % 10] * KIB
}

pub(crate) fn sample(i: usize, requests: u64, heap: f64, phase: Phase) -> Sample {
    Sample {
        t_s: i as f64,
        requests,
        heap_used: heap,
        external: MIB,
        array_buffers: 0.0,
        rss: 60.0 * MIB,
        phase,
    }
}

/// A baseline, the sample after warm-up and `rounds - 1` rounds of `per_round` requests with
/// heap `heap(i, requests)`, then (if given) the idle sample; every request answered 200.
fn run(rounds: usize, per_round: u64, heap: impl Fn(usize, f64) -> f64) -> Observations {
    let mut samples = vec![sample(0, 0, 10.0 * MIB, Phase::Baseline)];
    for i in 0..rounds {
        let r = 2000 + i as u64 * per_round;
        let phase = if i == 0 { Phase::Warmup } else { Phase::Load };
        samples.push(sample(i + 1, r, heap(i, r as f64), phase));
    }
    Observations {
        idle: Duration::from_millis(2500),
        rps: 5000.0,
        prod_heap_mb: 2048.0,
        stopped_by: Some(Stop::MaxDuration),
        ..Observations::served(samples)
    }
}

fn with_idle(mut o: Observations, heap: f64) -> Observations {
    let requests = o.requests;
    let i = o.samples.len();
    o.samples.push(sample(i, requests, heap, Phase::Idle));
    o
}

fn leaky(rounds: usize) -> Observations {
    run(rounds, 5000, |i, r| 20.0 * MIB + 300.0 * r + noise(i))
}

fn flat(rounds: usize) -> Observations {
    run(rounds, 5000, |i, _| 20.0 * MIB + noise(i))
}

fn th() -> Thresholds {
    Thresholds::default()
}

#[test]
fn a_steady_leak_is_a_leak_with_its_fit_and_projection() {
    let o = with_idle(leaky(10), 20.0 * MIB + 300.0 * 47_000.0);
    let d = decide(&o, &th());
    assert_eq!(
        (d.verdict, d.kind, d.exit_code),
        (Verdict::Leak, LeakKind::JsHeap, 1)
    );
    assert!((d.retained_bytes_per_request - 300.0).abs() < 20.0, "{d:?}");
    let fit = d.fit.as_ref().unwrap();
    assert_eq!(fit.series, SeriesName::HeapUsed);
    assert_eq!(fit.samples_used, (1..=10).collect::<Vec<_>>());
    assert!(fit.ci_low < 300.0 && fit.ci_high > 300.0, "{fit:?}");
    assert!(d.mann_kendall_p.unwrap() < 0.005);
    assert!(d.projection.is_some() && d.reason.is_none() && d.warnings.is_empty());
    let ev = evidence::evidence(&d, &o);
    assert!(ev[0].starts_with("retained heap grew"), "{ev:?}");
    assert!(ev[2].contains("idle and a forced GC"), "{ev:?}");
}

#[test]
fn a_cache_that_fills_then_stops_is_a_plateau() {
    let o = run(10, 5000, |i, r| {
        20.0 * MIB + 400.0 * (r - 2000.0).min(15_000.0) + noise(i)
    });
    let d = decide(&o, &th());
    assert_eq!((d.verdict, d.exit_code), (Verdict::NoLeak, 0), "{d:?}");
    let Finding::Stable(s) = &d.finding else {
        panic!("{:?}", d.finding)
    };
    assert!(s.early_growth_shown, "{s:?}");
    let ev = evidence::evidence(&d, &o);
    assert!(ev.iter().any(|e| e.contains("early growth")), "{ev:?}");
}

#[test]
fn a_ttl_cache_that_shrinks_when_idle_is_no_leak() {
    let o = with_idle(leaky(10), 21.0 * MIB);
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::NoLeak, "{d:?}");
    assert!(matches!(d.finding, Finding::IdleShrink { .. }), "{d:?}");
    assert_eq!(d.retained_bytes_per_request, 0.0);
    assert!(evidence::evidence(&d, &o)[0].contains("an expiring cache"));
}

#[test]
fn warm_up_growth_then_flat_is_no_leak() {
    // 1 MB per round for the first three rounds (JIT, pools, lazy modules), then flat.
    let o = run(12, 5000, |i, _| {
        20.0 * MIB + (i.min(3) as f64) * MIB + noise(i)
    });
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::NoLeak, "{d:?}");
}

#[test]
fn out_of_memory_under_load_is_a_leak() {
    let mut o = leaky(4);
    o.oom = true;
    o.oom_detail.v8_fatal = Some("FATAL ERROR: Reached heap limit".into());
    let d = decide(&o, &th());
    assert_eq!(
        (d.verdict, d.kind, d.exit_code),
        (Verdict::Leak, LeakKind::JsHeap, 1)
    );
    // Four samples are too few for the assessment; the fit so far still gives the rate.
    assert!(d.retained_bytes_per_request > 200.0, "{d:?}");
    let ev = evidence::evidence(&d, &o);
    assert!(ev[0].contains("ran out of memory"), "{ev:?}");
    assert!(ev[1].starts_with("V8: FATAL"), "{ev:?}");
}

#[test]
fn out_of_memory_while_starting_is_a_failed_target() {
    let o = Observations {
        oom: true,
        startup_oom: true,
        heap_mb: 128,
        failure: Some("the target exited before listening".into()),
        ..Observations::default()
    };
    let d = decide(&o, &th());
    assert_eq!((d.verdict, d.exit_code), (Verdict::TargetFailed, 4));
    assert_eq!(
        d.reason.as_deref(),
        Some("ran out of memory while starting with a 128 MiB heap: raise --heap-mb")
    );
}

fn window(kb_per_request: f64, gc_share: f64, requests: u64) -> LoadWindow {
    LoadWindow {
        seconds: 10.0,
        allocated_bytes: kb_per_request * KIB * requests as f64,
        gc_pause_ms: gc_share * 10_000.0,
    }
}

#[test]
fn an_asset_table_rebuilt_per_call_is_pressure_and_an_express_route_is_not() {
    let mut o = flat(10);
    o.load = Some(window(97.0, 0.082, o.requests));
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::NoLeak);
    assert!(d.pressure, "{d:?}");
    assert!(evidence::pressure(&d)
        .unwrap()
        .contains("97.0 KiB allocated per request"));
    o.load = Some(window(26.7, 0.054, o.requests));
    let d = decide(&o, &th());
    assert!(!d.pressure && evidence::pressure(&d).is_none(), "{d:?}");
    assert!((d.allocation.unwrap().gc_share - 0.054).abs() < 1e-9);
}

#[test]
fn most_requests_failing_is_a_failed_target_with_the_cause_and_the_samples() {
    let mut o = flat(10);
    o.responses.by_status = [(401, o.requests)].into_iter().collect();
    let d = decide(&o, &th());
    assert_eq!((d.verdict, d.exit_code), (Verdict::TargetFailed, 4));
    assert_eq!(
        d.reason.as_deref(),
        Some("every response was 401: the route needs auth — pass -H 'Authorization: …' or a setup step")
    );
    let out = report::outcome(&d, &o, Captured::default());
    assert_eq!(out.exit_code, 4);
    assert_eq!(out.report.samples.len(), o.samples.len());
    assert_eq!(out.report.target_failed, d.reason);
    assert_eq!(out.report.http_errors, o.requests);
    // The same answers are a verdict when they are what the route is meant to say.
    o.responses.expect = "4xx".parse().unwrap();
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::NoLeak, "{d:?}");
    assert!(d.warnings.is_empty());
}

#[test]
fn a_few_failed_requests_leave_the_verdict_with_a_warning() {
    let mut o = leaky(10);
    let n = o.requests;
    o.responses.by_status = [(200, n - n / 10), (500, n / 10)].into_iter().collect();
    o.responses.transport = [("reset".to_string(), 3)].into_iter().collect();
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::Leak);
    assert_eq!(d.warnings.len(), 1, "{d:?}");
    assert!(
        d.warnings[0].contains("500 ×4,700, reset ×3")
            && d.warnings[0].contains("the verdict stands"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn an_interrupted_run_keeps_its_statistics_so_far() {
    let mut o = leaky(4);
    o.interrupted = true;
    let d = decide(&o, &th());
    assert_eq!((d.verdict, d.exit_code), (Verdict::Interrupted, 130));
    assert!((d.retained_bytes_per_request - 300.0).abs() < 60.0, "{d:?}");
    assert_eq!(d.fit.as_ref().unwrap().samples_used, vec![1, 2, 3, 4]);
    assert!(d.reason.as_deref().unwrap().contains("after 4 rounds"));
    let ev = evidence::evidence(&d, &o);
    assert!(ev.iter().any(|e| e.starts_with("so far:")), "{ev:?}");
    let r = report::outcome(&d, &o, Captured::default()).report;
    assert_eq!(r.samples.len(), 5);
    assert!(r.retained_bytes_per_request > 0.0 && r.fit.is_some());
}

#[test]
fn a_target_that_died_or_failed_is_a_failed_target() {
    let mut o = leaky(3);
    o.died = true;
    let d = decide(&o, &th());
    assert_eq!((d.verdict, d.exit_code), (Verdict::TargetFailed, 4));
    assert!(d
        .reason
        .as_deref()
        .unwrap()
        .contains("without an out-of-memory error"));
    let o = Observations {
        failure: Some("the target did not accept connections on port 1 within 30s".into()),
        ..Observations::default()
    };
    let d = decide(&o, &th());
    assert_eq!((d.verdict, d.exit_code), (Verdict::TargetFailed, 4));
    assert_eq!(d.reason, o.failure);
    assert_eq!(d.fit, None);
}

#[test]
fn inconclusive_says_why_and_what_to_change() {
    // Too few rounds: the time budget ran out.
    let d = decide(&flat(5), &th());
    assert_eq!((d.verdict, d.exit_code), (Verdict::Inconclusive, 3));
    assert!(matches!(
        d.finding,
        Finding::Inconclusive(Why::TooFewRounds { rounds: 5, need: 8 })
    ));
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("raise --max-duration"),
        "{d:?}"
    );
    // Too few requests: -n ran out.
    let mut o = flat(4);
    o.stopped_by = Some(Stop::RequestBudget);
    let d = decide(&o, &th());
    assert!(
        d.reason.as_deref().unwrap().starts_with("too few requests"),
        "{d:?}"
    );
    assert!(d.reason.as_deref().unwrap().contains("raise -n"), "{d:?}");
    // Too few requests: a slow target gives each round a handful.
    let o = run(10, 20, |i, _| 20.0 * MIB + 30.0 * noise(i));
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::Inconclusive, "{d:?}");
    assert!(d.reason.as_deref().unwrap().contains("raise -c"), "{d:?}");
    // Noise: enough rounds and requests, memory swinging by megabytes.
    let swing = [0.0, 6.0, 1.0, 7.0, 0.5, 8.0, 2.0, 3.0, 9.0, 1.0, 7.5, 2.5];
    let o = with_idle(
        run(12, 5000, |i, _| 20.0 * MIB + swing[i] * MIB),
        24.0 * MIB,
    );
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::Inconclusive, "{d:?}");
    let reason = d.reason.clone().unwrap();
    assert!(
        reason.starts_with("noise:") && reason.contains("--max-duration"),
        "{reason}"
    );
    let ev = evidence::evidence(&d, &o);
    assert_eq!(ev.last(), Some(&reason));
}

/// `o` with idle samples every second for `secs` seconds, growing `bps` bytes/second.
fn idle_for(mut o: Observations, secs: usize, bps: f64) -> Observations {
    let last = *o.samples.last().unwrap();
    for k in 1..=secs {
        let mut s = sample(
            0,
            last.requests,
            last.heap_used + bps * k as f64 + noise(k) / 4.0,
            Phase::Idle,
        );
        s.t_s = last.t_s + k as f64;
        o.samples.push(s);
    }
    o
}

#[test]
fn growth_while_idle_is_a_leak_driven_by_time() {
    // 45 KiB/s whatever the phase; a second per round, requests retain nothing.
    let o = idle_for(
        run(8, 5000, |i, _| {
            20.0 * MIB + 45.0 * KIB * i as f64 + noise(i) / 4.0
        }),
        6,
        45.0 * KIB,
    );
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::Leak, "{:?}", d.finding);
    assert_eq!(d.driver, Driver::Time);
    assert!(
        (d.bytes_per_unit / KIB - 45.0).abs() < 5.0,
        "{}",
        d.bytes_per_unit
    );
    let r = report::outcome(&d, &o, Captured::default()).report;
    assert_eq!(
        (r.driver, r.unit.as_deref()),
        (Some(Driver::Time), Some("second"))
    );
    assert!(r.projection.unwrap().contains("hours"));
    // A request leak that stops when the requests do keeps requests as its driver.
    let o = idle_for(leaky(10), 6, 0.0);
    let d = decide(&o, &th());
    assert_eq!((d.verdict, d.driver), (Verdict::Leak, Driver::Requests));
}

#[test]
fn an_index_filling_up_is_no_leak_once_full_and_undecided_while_slowing() {
    let index =
        |_: usize, r: f64| 20.0 * MIB + 65.0 * MIB * (1.0 - (-(r - 2000.0) / 20_000.0).exp());
    let d = decide(&run(40, 4000, index), &th());
    assert_eq!(d.verdict, Verdict::NoLeak, "{:?}", d.finding);
    assert!(matches!(d.finding, Finding::Plateau { .. }));
    let ev = evidence::evidence(&d, &run(40, 4000, index)).join(" ");
    assert!(
        ev.contains("filled to") && ev.contains("after 158,000 requests"),
        "{ev}"
    );
    // Fifteen rounds in, still bending: not a leak.
    let d = decide(&run(15, 800, index), &th());
    assert_eq!(d.verdict, Verdict::Inconclusive, "{:?}", d.finding);
    assert!(d.reason.unwrap().contains("ever more slowly"));
}
