//! `decide()` on the time axis (`--load-cmd` without work counts): growth that slows down is
//! no leak (settled, or still slowing when the load ended), a steady one is, whether the
//! target counts the requests it serves or not.

use std::time::Duration;

use leakhound_report::run_schema::Verdict;

use super::*;
use crate::observations::{Observations, Stop};
use crate::verdict::{Phase, Sample, KIB, MIB};
use crate::work_axis::{thresholds, MS};

/// Deterministic jitter of about ±40 KB.
fn noise(i: usize) -> f64 {
    [13.0, -31.0, 7.0, 40.0, -22.0, 0.0, -9.0, 25.0, -38.0, 18.0][i % 10] * KIB
}

/// A sample every 2 s from 2 s on (the first is warm-up), `idle` flat idle samples after;
/// `at(t)` gives (requests served by t seconds, retained heap at t).
fn run(samples: usize, idle: usize, counted: bool, at: impl Fn(f64) -> (u64, f64)) -> Observations {
    let mut o = Observations {
        heap_limit: 176.0 * MIB,
        heap_mb: 128,
        idle: Duration::from_millis(2500),
        prod_heap_mb: 2048.0,
        axis: FitAxis::Seconds,
        ..Observations::default()
    };
    let mut push = |t: f64, served: u64, heap: f64, phase: Phase| {
        o.samples.push(Sample {
            t_s: t,
            requests: (t * MS) as u64,
            heap_used: heap,
            external: MIB,
            array_buffers: 0.0,
            rss: 60.0 * MIB,
            phase,
        });
        o.served.push(counted.then_some(served));
    };
    push(0.4, 0, 4.0 * MIB, Phase::Baseline);
    for i in 0..samples {
        let t = 2.0 + 2.0 * i as f64;
        let (served, heap) = at(t);
        let phase = if i == 0 { Phase::Warmup } else { Phase::Load };
        push(t, served, heap + noise(i), phase);
    }
    let (t_end, (served, heap)) = {
        let t = 2.0 * samples as f64;
        (t, at(t))
    };
    for i in 0..idle {
        push(t_end + 1.0 + i as f64, served, heap + noise(i), Phase::Idle);
    }
    o
}

/// The warm index under a load that keeps 8 requests in flight: 20,000 keys of 3.2 KB, a new
/// key costs 1 ms of CPU and a known one 0.02 ms, so it fills at a nearly steady rate in
/// seconds (the served requests speed up instead) and then stops short. Returns (served, heap) at `t` seconds.
fn warm_index(t: f64) -> (u64, f64) {
    let (keys, mut k, mut served) = (20_000.0, 0.0f64, 0.0f64);
    for _ in 0..(t * 1000.0) as usize {
        let new = 1.0 - k / keys;
        let per_ms = 1.0 / (new + 0.02);
        served += per_ms;
        k += new * per_ms;
    }
    (served as u64, 4.0 * MIB + 3200.0 * k)
}

fn th() -> Thresholds {
    thresholds(&Thresholds::default(), FitAxis::Seconds)
}

fn told(o: &Observations, d: &Decision) -> String {
    format!(
        "{:?} {:?} {:?}",
        d.reason,
        crate::evidence::evidence(d, o),
        d.finding
    )
}

#[test]
fn an_index_still_filling_when_the_load_ended_is_inconclusive_and_says_so() {
    // The load command exits at 16 s, with ~75 % of the keys: linear in seconds so far.
    let o = run(8, 3, true, warm_index);
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::Inconclusive, "{}", told(&o, &d));
    let reason = d.reason.clone().unwrap();
    assert!(reason.contains("ever more slowly"), "{reason}");
    assert!(
        reason.contains("/second") && !reason.contains("request"),
        "{reason}"
    );
    assert!(reason.contains("run the load longer"), "{reason}");
    // Out of budget instead: the advice is the budget.
    let mut o = o;
    o.stopped_by = Some(Stop::MaxDuration);
    let reason = decide(&o, &th()).reason.unwrap();
    assert!(reason.contains("raise --max-duration"), "{reason}");
}

#[test]
fn an_index_that_filled_up_under_the_load_is_no_leak_in_seconds() {
    let o = run(24, 3, true, warm_index);
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::NoLeak, "{}", told(&o, &d));
    let ev = crate::evidence::evidence(&d, &o).join(" ");
    assert!(
        ev.contains("filled to") && ev.contains("after 48.0 s"),
        "{ev}"
    );
    assert!(!ev.contains("request"), "{ev}");
    // In the report the settled sentence leads; the whole run's rate (the filling) follows it.
    let mut r = leakhound_report::run_schema::RunReport {
        evidence: crate::evidence::evidence(&d, &o),
        ..Default::default()
    };
    crate::work_axis::words(&mut r, &d, &o);
    assert!(r.evidence[0].contains("filled to"), "{:?}", r.evidence);
    let rate = r.evidence.iter().position(|e| e.contains("/second"));
    assert!(
        rate.is_some_and(|i| i > 0 && r.evidence[i].starts_with("while it filled")),
        "{:?}",
        r.evidence
    );
}

#[test]
fn a_steady_leak_on_time_is_a_leak_counted_or_not_and_on_a_slowing_machine() {
    // 1,000 requests/s, 1 KiB each.
    let steady = |t: f64| ((t * 1000.0) as u64, 4.0 * MIB + 1024.0 * 1000.0 * t);
    for counted in [true, false] {
        let o = run(14, 3, counted, steady);
        let d = decide(&o, &th());
        assert_eq!(
            d.verdict,
            Verdict::Leak,
            "counted {counted}: {}",
            told(&o, &d)
        );
    }
    // The machine gets loaded half-way: the load slows to a third, and so does the growth in
    // seconds; per request served the leak is as steady as ever.
    let slowed = |t: f64| {
        let served = if t <= 14.0 {
            t * 1000.0
        } else {
            14_000.0 + (t - 14.0) * 333.0
        };
        (served as u64, 4.0 * MIB + 1024.0 * served)
    };
    let o = run(14, 3, true, slowed);
    let d = decide(&o, &th());
    assert_eq!(d.verdict, Verdict::Leak, "{}", told(&o, &d));
}

#[test]
fn growth_that_decelerates_in_seconds_is_not_a_leak_without_counts() {
    // No request counts (a load over another protocol): 60 MB filling as 1 − e^(−t/12 s).
    let filling = |t: f64| (0, 4.0 * MIB + 60.0 * MIB * (1.0 - (-t / 12.0).exp()));
    let o = run(12, 3, false, filling);
    let d = decide(&o, &th());
    assert_ne!(d.verdict, Verdict::Leak, "{}", told(&o, &d));
    assert!(matches!(
        d.shape,
        Shape::Slowing { .. } | Shape::Plateau { .. }
    ));
}

#[test]
fn deceleration_needs_a_late_slope_well_below_the_early_one() {
    let th = th();
    let series = |f: &dyn Fn(f64) -> f64| -> Vec<Sample> {
        (0..12)
            .map(|i| {
                let t = 2.0 + 2.0 * i as f64;
                Sample {
                    t_s: t,
                    requests: (t * MS) as u64,
                    heap_used: f(t) + noise(i),
                    external: 0.0,
                    array_buffers: 0.0,
                    rss: 0.0,
                    phase: Phase::Load,
                }
            })
            .collect()
    };
    // Steady until 16 s, then a fifth of the rate: a hockey stick.
    let knee = |t: f64| {
        MIB * if t <= 16.0 {
            t
        } else {
            16.0 + (t - 16.0) / 5.0
        }
    };
    assert!(crate::time_shape::decelerating(
        &series(&knee),
        |s| s.heap_used,
        &th
    ));
    let line = |t: f64| MIB * t;
    assert!(!crate::time_shape::decelerating(
        &series(&line),
        |s| s.heap_used,
        &th
    ));
    let flat = |_: f64| 30.0 * MIB;
    assert!(!crate::time_shape::decelerating(
        &series(&flat),
        |s| s.heap_used,
        &th
    ));
}
