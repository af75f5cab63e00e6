//! Leaks driven by time: retained memory that grows while no request is made (a `setInterval`
//! pushing into a list, a poller caching every answer). Requests cannot explain growth in the
//! idle phase, so the idle samples are the evidence; the rate comes from every sample after
//! warm-up against the clock. Pure.

use crate::stats::{mann_kendall_p_up, theil_sen, Fit};
use crate::verdict::{Phase, Sample, Thresholds, KIB};

/// The numbers behind a leak driven by time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeFacts {
    /// Bytes/second over every sample after warm-up (load and idle).
    pub rate: Fit,
    /// Bytes/second over the idle phase alone (from the last load sample).
    pub idle_rate: Fit,
    pub mk_p: f64,
    /// Seconds the samples span, and the growth along `rate` over them.
    pub seconds: f64,
    pub growth: f64,
    /// Seconds without load, and the growth along `idle_rate` over them.
    pub idle_seconds: f64,
    pub idle_growth: f64,
}

/// Growth slower than this (bytes/second, about 7 MiB/hour) is not called a time leak.
pub const MIN_BPS: f64 = 2.0 * KIB;
/// Fewest idle samples (after the last load sample) to judge growth without requests.
pub const MIN_IDLE_POINTS: usize = 4;

/// The samples after warm-up (the warm-up sample, the rounds, the idle phase).
fn after_warmup(samples: &[Sample]) -> Vec<Sample> {
    samples
        .iter()
        .filter(|s| s.phase != Phase::Baseline)
        .copied()
        .collect()
}

/// The idle samples with the last load sample before them.
fn idle_run(samples: &[Sample]) -> Vec<Sample> {
    let first = samples.iter().position(|s| s.phase == Phase::Idle);
    match first {
        Some(i) => samples[i.saturating_sub(1)..]
            .iter()
            .filter(|s| matches!(s.phase, Phase::Idle | Phase::Load | Phase::Warmup))
            .copied()
            .collect(),
        None => Vec::new(),
    }
}

fn fit_t(s: &[Sample], value: &impl Fn(&Sample) -> f64) -> Option<(Fit, f64)> {
    let x: Vec<f64> = s.iter().map(|s| s.t_s).collect();
    let y: Vec<f64> = s.iter().map(value).collect();
    Some((theil_sen(&x, &y)?, mann_kendall_p_up(&y)))
}

/// A leak driven by time in the series `value`, or `None`.
pub fn time_leak(
    samples: &[Sample],
    value: impl Fn(&Sample) -> f64,
    th: &Thresholds,
) -> Option<TimeFacts> {
    let idle = idle_run(samples);
    if idle.len() < MIN_IDLE_POINTS + 1 {
        return None;
    }
    let all = after_warmup(samples);
    let (rate, mk_p) = fit_t(&all, &value)?;
    let (idle_rate, idle_p) = fit_t(&idle, &value)?;
    let seconds = all.last()?.t_s - all.first()?.t_s;
    let idle_seconds = idle.last()?.t_s - idle.first()?.t_s;
    let f = TimeFacts {
        rate,
        idle_rate,
        mk_p,
        seconds,
        growth: rate.slope * seconds,
        idle_seconds,
        idle_growth: idle_rate.slope * idle_seconds,
    };
    let leak = mk_p < 0.005
        && rate.lo > MIN_BPS
        && f.growth > th.min_late_growth
        && idle_p < 0.05
        && idle_rate.lo > 0.0
        && idle_rate.slope > 0.5 * rate.slope
        && f.idle_growth > th.stable_growth / 2.0;
    leak.then_some(f)
}

/// The 95 % upper bound of growth against the clock over every sample after warm-up
/// (bytes/second) and the seconds it spans: what a flat verdict rules out for a leak driven
/// by time (a short run cannot see a slow timer leak, and says how slow).
pub fn upper_rate(samples: &[Sample], value: impl Fn(&Sample) -> f64) -> Option<(f64, f64)> {
    let all = after_warmup(samples);
    if all.len() < MIN_IDLE_POINTS + 2 {
        return None;
    }
    let (fit, _) = fit_t(&all, &value)?;
    let seconds = all.last()?.t_s - all.first()?.t_s;
    (seconds > 0.0).then_some((fit.hi.max(0.0), seconds))
}

/// Should the idle phase go on? It grows so far, but not yet clearly enough to call.
pub fn idle_still_growing(samples: &[Sample], value: impl Fn(&Sample) -> f64) -> bool {
    let idle = idle_run(samples);
    if idle.len() < 2 {
        return false;
    }
    let (first, last) = (idle[0], idle[idle.len() - 1]);
    let secs = last.t_s - first.t_s;
    let grew = value(&last) - value(&first);
    let slope_ok = idle.len() < 3 || fit_t(&idle, &value).is_some_and(|(f, _)| f.slope > MIN_BPS);
    // 32 KiB: a 45 KB/s timer leak showed only 60 KB over the 2.5 s idle of a fast run (its
    // timer starved under load); forced-GC noise on a flat heap stays well under it.
    secs > 0.0 && grew > 32.0 * KIB && grew / secs > MIN_BPS && slope_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::MIB;

    #[test]
    fn a_flat_run_bounds_the_time_rate_it_rules_out() {
        // Flat with ±40 KB of noise over ~20 s: the bound is a few KiB/s, not zero.
        let s = run(0.0, 0.0, 12.0, 22.0);
        let (hi, secs) = upper_rate(&s, |s| s.heap_used).unwrap();
        assert!(secs > 15.0, "{secs}");
        assert!(hi > 0.0 && hi < 8.0 * KIB, "{hi}");
        // A 45 KB/s timer leak is far above any such bound.
        let s = run(45_000.0, 0.0, 12.0, 22.0);
        let (hi, _) = upper_rate(&s, |s| s.heap_used).unwrap();
        assert!(hi > 40_000.0, "{hi}");
        assert_eq!(upper_rate(&s[..3], |s| s.heap_used), None);
    }

    /// Load rounds every 0.8 s until `load_end`, then idle samples every second until `end`;
    /// `bps` bytes/second of growth whatever the phase, `bpr` bytes per request under load.
    fn run(bps: f64, bpr: f64, load_end: f64, end: f64) -> Vec<Sample> {
        let mut v = Vec::new();
        let mut t = 2.0;
        let mut req = 0u64;
        let mut i = 0;
        let jitter = |i: usize| [20.0, -35.0, 5.0, 40.0, -10.0, -25.0, 30.0][i % 7] * KIB;
        while t <= end {
            let phase = if i == 0 {
                Phase::Warmup
            } else if t <= load_end {
                Phase::Load
            } else {
                Phase::Idle
            };
            v.push(Sample {
                t_s: t,
                requests: req,
                heap_used: 20.0 * MIB + bps * t + bpr * req as f64 + jitter(i),
                external: 0.0,
                array_buffers: 0.0,
                rss: 0.0,
                phase,
            });
            if t < load_end {
                req += 5000;
            }
            t += if t < load_end { 0.8 } else { 1.0 };
            i += 1;
        }
        v
    }

    #[test]
    fn growth_while_idle_is_a_time_leak() {
        let s = run(45.0 * KIB, 0.0, 10.0, 18.0);
        let f = time_leak(&s, |s| s.heap_used, &Thresholds::default()).expect("a time leak");
        assert!((f.rate.slope / KIB - 45.0).abs() < 5.0, "{f:?}");
        assert!(idle_still_growing(&s[..s.len() - 5], |s| s.heap_used));
    }

    #[test]
    fn a_request_leak_or_a_flat_heap_is_not_driven_by_time() {
        let th = Thresholds::default();
        let s = run(0.0, 300.0, 10.0, 18.0);
        assert_eq!(time_leak(&s, |s| s.heap_used, &th), None);
        assert!(!idle_still_growing(&s, |s| s.heap_used));
        let s = run(0.0, 0.0, 10.0, 18.0);
        assert_eq!(time_leak(&s, |s| s.heap_used, &th), None);
        // Too short an idle phase to judge.
        let s = run(45.0 * KIB, 0.0, 10.0, 12.5);
        assert_eq!(time_leak(&s, |s| s.heap_used, &th), None);
    }
}
