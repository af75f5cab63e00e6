//! Memory outside the JS heap: resident memory (RSS) that grows steadily with requests while
//! the JS heap and external memory do not (a native addon, allocator fragmentation, an isolate
//! leakhound does not follow). [`crate::decide`] judges the heap and external series; this
//! step, run on its decision, turns a flat or undecided run into an `rss` leak when RSS alone
//! grows, so that growth is never silently ignored.
//!
//! RSS is noisier than a heap after a forced GC (the allocator keeps freed pages, the young
//! generation's size changes), so on top of the usual trend test it must grow by at least
//! [`MIN_RSS_GROWTH`] over the load phase and [`MIN_RSS_LATE_GROWTH`] in its late part, and the
//! heaps' own growth (the main isolate's plus its worker threads') must explain less than half
//! of it.

use leakhound_report::run_schema::{FitAxis, FitOut, SeriesName, Verdict};

use crate::decide::{Decision, Finding, LeakFacts};
use crate::observations::Observations;
use crate::verdict::{assess, assess_series, shrank_when_idle, LeakKind, Thresholds, Trend, MIB};

/// Least RSS growth over the load phase that counts (bytes).
pub const MIN_RSS_GROWTH: f64 = 16.0 * MIB;
/// Least RSS growth over the late rounds that counts (bytes).
pub const MIN_RSS_LATE_GROWTH: f64 = 4.0 * MIB;

/// Whether RSS alone leaks in these load-phase samples.
pub fn rss_only(load: &[crate::verdict::Sample], th: &Thresholds) -> bool {
    rss_assessment(load, th).is_some()
}

fn rss_assessment(
    load: &[crate::verdict::Sample],
    th: &Thresholds,
) -> Option<crate::verdict::SeriesAssessment> {
    if assess(load, th).leak().is_some() {
        return None;
    }
    let x: Vec<f64> = load.iter().map(|s| s.requests as f64).collect();
    let y: Vec<f64> = load.iter().map(|s| s.rss).collect();
    if y.iter().any(|&r| r <= 0.0) {
        return None;
    }
    let a = assess_series(&x, &y, th);
    // The heaps' own growth shows in RSS too, with V8's and the allocator's overhead on top (a
    // cache filling up to a plateau grows RSS more than its heap): RSS growth the heaps explain
    // for half or more is theirs, not memory outside them.
    let (first, last) = (load.first()?, load.last()?);
    let explained = (last.heap_used + last.external) - (first.heap_used + first.external);
    if explained > 0.5 * a.growth {
        return None;
    }
    (a.trend == Trend::Leak && a.growth >= MIN_RSS_GROWTH && a.late_growth >= MIN_RSS_LATE_GROWTH)
        .then_some(a)
}

/// Turn a flat or undecided decision into an RSS leak when RSS alone grows; returns the
/// sentence that says what the heap and external memory did meanwhile.
pub fn apply(d: &mut Decision, obs: &Observations, th: &Thresholds) -> Option<String> {
    if !matches!(d.verdict, Verdict::NoLeak | Verdict::Inconclusive) {
        return None;
    }
    let load = obs.load_samples();
    let a = rss_assessment(&load, th)?;
    let f = a.fit?;
    let (first, last) = (load.first()?, load.last()?);
    let idle = obs.idle_sample();
    if idle.is_some_and(|i| shrank_when_idle(first.rss, last.rss, i.rss)) {
        return None;
    }
    d.verdict = Verdict::Leak;
    d.kind = LeakKind::Rss;
    d.exit_code = crate::exit_code::of(Verdict::Leak);
    d.reason = None;
    d.pressure = false;
    d.retained_bytes_per_request = f.slope;
    d.mann_kendall_p = Some(a.mk_p);
    d.fit = Some(FitOut {
        series: SeriesName::Rss,
        x: FitAxis::Requests,
        slope: f.slope,
        intercept: f.intercept,
        ci_low: f.lo,
        ci_high: f.hi,
        r_squared: f.r2,
        samples_used: obs.load_indices(),
    });
    d.finding = Finding::Leak(LeakFacts {
        growth: a.growth,
        requests: a.requests,
        fit: f,
        mk_p: a.mk_p,
        rounds: load.len(),
        late_slope: a.late.map_or(0.0, |l| l.slope),
        idle: idle.map(|i| i.rss),
    });
    Some(format!(
        "the JS heap ({:.1} → {:.1} MiB) and external memory ({:.1} → {:.1} MiB) do not explain it: \
         memory outside the V8 heap (a native addon, allocator fragmentation, or an isolate leakhound does not follow)",
        first.heap_used / MIB,
        last.heap_used / MIB,
        first.external / MIB,
        last.external / MIB
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::decide;
    use crate::verdict::{Phase, Sample, KIB};

    /// Ten load rounds of 2,000 requests: heap flat with jitter, RSS from `rss(i)`.
    fn obs(heap_growth: f64, rss: impl Fn(usize) -> f64) -> Observations {
        let jitter = |i: usize| [13.0, -31.0, 7.0, 40.0, -22.0][i % 5] * KIB;
        let mut samples = Vec::new();
        for i in 0..11 {
            samples.push(Sample {
                t_s: i as f64,
                requests: i as u64 * 2000,
                heap_used: 10.0 * MIB + jitter(i) + heap_growth * i as f64,
                external: MIB,
                array_buffers: 0.0,
                rss: rss(i),
                phase: match i {
                    0 => Phase::Baseline,
                    1 => Phase::Warmup,
                    _ => Phase::Load,
                },
            });
        }
        Observations {
            requests: 20_000,
            samples,
            ..Default::default()
        }
    }

    #[test]
    fn steady_rss_growth_alone_is_an_rss_leak() {
        let th = Thresholds::default();
        let o = obs(0.0, |i| {
            60.0 * MIB + i as f64 * 4.0 * MIB + [0.0, 90.0, -50.0][i % 3] * KIB
        });
        let mut d = decide(&o, &th);
        assert_ne!(d.verdict, Verdict::Leak);
        let note = apply(&mut d, &o, &th).expect("an RSS finding");
        assert_eq!(d.verdict, Verdict::Leak);
        assert_eq!(d.kind, LeakKind::Rss);
        assert_eq!(d.fit.as_ref().unwrap().series, SeriesName::Rss);
        // 4 MiB per 2,000 requests.
        assert!(
            (d.retained_bytes_per_request - 2097.0).abs() < 50.0,
            "{}",
            d.retained_bytes_per_request
        );
        assert!(note.contains("do not explain it"), "{note}");
    }

    #[test]
    fn flat_or_small_rss_growth_and_heap_leaks_are_left_alone() {
        let th = Thresholds::default();
        // RSS creeping by 1 MiB in all: under MIN_RSS_GROWTH.
        let o = obs(0.0, |i| 60.0 * MIB + i as f64 * 100.0 * KIB);
        let mut d = decide(&o, &th);
        let before = d.verdict;
        assert!(apply(&mut d, &o, &th).is_none());
        assert_eq!(d.verdict, before);
        // A heap leak stays a heap leak, whatever RSS does.
        let o = obs(MIB, |i| 60.0 * MIB + i as f64 * 4.0 * MIB);
        let mut d = decide(&o, &th);
        assert_eq!(d.kind, LeakKind::JsHeap);
        assert!(apply(&mut d, &o, &th).is_none());
        assert_eq!(d.kind, LeakKind::JsHeap);
    }

    #[test]
    fn rss_growth_the_heap_explains_is_not_outside_the_heap() {
        let th = Thresholds::default();
        // The heap grows 3 MiB a round and RSS 4 MiB a round (V8's overhead on top): decided on
        // the heap as a no-leak or not (a worker thread's heap, a cache filling), RSS adds nothing.
        let o = obs(3.0 * MIB, |i| 60.0 * MIB + i as f64 * 4.0 * MIB);
        let mut d = decide(&o, &th);
        d.verdict = Verdict::NoLeak;
        assert!(apply(&mut d, &o, &th).is_none());
        assert_eq!(d.verdict, Verdict::NoLeak);
        // The same RSS with a flat heap is outside the heap.
        let o = obs(0.0, |i| 60.0 * MIB + i as f64 * 4.0 * MIB);
        let mut d = decide(&o, &th);
        assert!(apply(&mut d, &o, &th).is_some());
        assert_eq!(d.kind, LeakKind::Rss);
    }
}
