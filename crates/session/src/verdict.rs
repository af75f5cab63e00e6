//! The decision: pure functions over the samples taken after each forced full GC.
//!
//! Retained memory is regressed against completed requests (not wall time), so the slope is
//! bytes retained per request. A leak keeps that slope up to the end; a bounded cache or a
//! warm-up has a slope that collapses in the late part of the run (a plateau); a TTL cache
//! gives memory back in the idle phase.

use crate::stats::{mann_kendall_p_up, theil_sen, Fit};

pub use leakhound_schema::{LeakKind, Phase};

/// One measurement, after a forced full GC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t_s: f64,
    pub requests: u64,
    pub heap_used: f64,
    pub external: f64,
    pub array_buffers: f64,
    pub rss: f64,
    pub phase: Phase,
}

/// The knobs of the decision; the defaults are what the scenario suite is tuned against.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Fewest post-warm-up samples before any call.
    pub min_points: usize,
    /// A leak must retain at least this much in total (bytes) ...
    pub min_growth: f64,
    /// ... and keep growing by at least this much over the late part of the run.
    pub min_late_growth: f64,
    /// Bytes per request below which retention does not count as a leak.
    pub min_bpr: f64,
    /// Stability: the upper bound of the late slope must be under this (bytes/request).
    pub stable_bpr: f64,
    /// Stability: or, with a late slope under `min_bpr` and no late trend, the late part grew
    /// by less than this in total (bytes).
    pub stable_growth: f64,
    /// Stability also needs the late part to span at least this many units of the x axis:
    /// heap readings after a forced GC wander by tens of KiB, so over fewer requests a leak of
    /// tens of bytes per request hides in that noise (an express app at 1,300 requests/s, on a
    /// busy machine, was called flat over 2,000 late requests while it kept 65 B each).
    pub min_stable_span: f64,
    /// More than this share of failed requests and the run gives no verdict (target-failed).
    pub max_failed_share: f64,
    /// Allocation pressure: GC takes at least this share of the load time ...
    pub pressure_gc_share: f64,
    /// ... while each request allocates at least this much (bytes); see [`crate::pressure`].
    pub pressure_bpr: f64,
    /// Allocation pressure whatever the size per request: GC takes this share of the time.
    pub pressure_heavy_gc_share: f64,
    /// Fewer requests per round than this and an undecided run blames the request count
    /// (raise `-c`) rather than noise.
    pub min_requests_per_round: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_points: 6,
            min_growth: 1.5 * MIB,
            min_late_growth: 384.0 * KIB,
            min_bpr: 10.0,
            stable_bpr: 16.0,
            stable_growth: 256.0 * KIB,
            // A leak of 64 B/request then grows by `stable_growth` in the late part.
            min_stable_span: 4096.0,
            max_failed_share: 0.5,
            pressure_gc_share: 0.05,
            pressure_bpr: 64.0 * KIB,
            pressure_heavy_gc_share: 0.2,
            min_requests_per_round: 100.0,
        }
    }
}

pub const KIB: f64 = 1024.0;
pub const MIB: f64 = 1024.0 * 1024.0;

/// What one memory series (JS heap, or external) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Leak,
    Stable,
    Undecided,
}

/// The statistics of one series over the load phase.
#[derive(Debug, Clone, Copy)]
pub struct SeriesAssessment {
    pub trend: Trend,
    pub fit: Option<Fit>,
    pub late: Option<Fit>,
    pub mk_p: f64,
    /// Growth along the robust line over the whole load phase (bytes).
    pub growth: f64,
    /// Growth along the late line over the late part (bytes).
    pub late_growth: f64,
    pub requests: f64,
}

/// Judge one series `y` against cumulative requests `x` (both in time order).
pub fn assess_series(x: &[f64], y: &[f64], th: &Thresholds) -> SeriesAssessment {
    let n = x.len().min(y.len());
    let mut a = SeriesAssessment {
        trend: Trend::Undecided,
        fit: None,
        late: None,
        mk_p: 1.0,
        growth: 0.0,
        late_growth: 0.0,
        requests: 0.0,
    };
    if n < th.min_points.max(3) {
        return a;
    }
    let (x, y) = (&x[..n], &y[..n]);
    a.requests = x[n - 1] - x[0];
    a.fit = theil_sen(x, y);
    a.mk_p = mann_kendall_p_up(y);
    let Some(fit) = a.fit else { return a };
    a.growth = fit.slope * a.requests;
    // The late part: the second half, at least four points.
    let k = (n / 2).max(4).min(n);
    let (lx, ly) = (&x[n - k..], &y[n - k..]);
    a.late = theil_sen(lx, ly);
    let late_p = mann_kendall_p_up(ly);
    let Some(late) = a.late else { return a };
    a.late_growth = late.slope * (lx[k - 1] - lx[0]);

    let leak = a.mk_p < 0.005
        && fit.lo > th.min_bpr
        && a.growth > th.min_growth
        && late.slope > 0.5 * fit.slope
        && late_p < 0.05
        && a.late_growth > th.min_late_growth;
    let stable = !leak
        && n >= th.min_points + 2
        && lx[k - 1] - lx[0] >= th.min_stable_span
        && late_p > 0.01
        && (late.hi < th.stable_bpr
            || (late.slope < th.min_bpr && late_p > 0.1 && a.late_growth.abs() < th.stable_growth));
    a.trend = if leak {
        Trend::Leak
    } else if stable {
        Trend::Stable
    } else {
        Trend::Undecided
    };
    a
}

/// What kind of memory leaks.
/// The state of the evidence after some rounds.
#[derive(Debug, Clone, Copy)]
pub struct Assessment {
    pub heap: SeriesAssessment,
    pub external: SeriesAssessment,
}

impl Assessment {
    /// The leak, if either series leaks; the bigger retainer names the kind.
    pub fn leak(&self) -> Option<LeakKind> {
        let slope = |s: &SeriesAssessment| s.fit.map_or(0.0, |f| f.slope);
        match (self.heap.trend, self.external.trend) {
            (Trend::Leak, Trend::Leak) if slope(&self.external) > slope(&self.heap) => {
                Some(LeakKind::External)
            }
            (Trend::Leak, _) => Some(LeakKind::JsHeap),
            (_, Trend::Leak) => Some(LeakKind::External),
            _ => None,
        }
    }

    pub fn stable(&self) -> bool {
        self.heap.trend == Trend::Stable && self.external.trend == Trend::Stable
    }

    /// The series of the leak kind (or the heap when nothing leaks).
    pub fn series(&self, kind: Option<LeakKind>) -> &SeriesAssessment {
        match kind {
            Some(LeakKind::External) => &self.external,
            _ => &self.heap,
        }
    }
}

/// Assess the load-phase samples (warm-up excluded by the caller: the first sample is the one
/// taken right after warm-up).
pub fn assess(load: &[Sample], th: &Thresholds) -> Assessment {
    let x: Vec<f64> = load.iter().map(|s| s.requests as f64).collect();
    let heap: Vec<f64> = load.iter().map(|s| s.heap_used).collect();
    // `external` already includes ArrayBuffer memory (Node's definition).
    let ext: Vec<f64> = load.iter().map(|s| s.external).collect();
    Assessment {
        heap: assess_series(&x, &heap, th),
        external: assess_series(&x, &ext, th),
    }
}

/// Did the idle phase give back most of what the load phase retained? (A TTL cache does, a
/// leak does not.)
pub fn shrank_when_idle(first_load: f64, last_load: f64, idle: f64) -> bool {
    let grown = last_load - first_load;
    grown > 0.0 && idle < first_load + 0.5 * grown
}

/// Time until a heap of `heap_bytes`, now holding `used_bytes`, fills at `bpr` bytes/request
/// and `rps` requests/second. `None` when nothing grows.
pub fn time_to_fill_s(heap_bytes: f64, used_bytes: f64, bpr: f64, rps: f64) -> Option<f64> {
    let rate = bpr * rps;
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    Some(((heap_bytes - used_bytes).max(0.0)) / rate)
}

// The figures in evidence sentences come from leakhound's one set of formatters (bytes in
// KiB/MiB/GiB, one duration style); the old names stay for the callers in `run.rs`.
pub use leakhound_report::format::{duration as human_duration, mebibytes as human_mb, thousands};

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, per_round: f64, f: impl Fn(usize, f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..n).map(|i| i as f64 * per_round).collect();
        let y: Vec<f64> = x.iter().enumerate().map(|(i, &r)| f(i, r)).collect();
        (x, y)
    }

    fn noise(i: usize) -> f64 {
        // Deterministic jitter of about ±40 KB.
        [13.0, -31.0, 7.0, 40.0, -22.0, 0.0, -9.0, 25.0, -38.0, 18.0][i % 10] * KIB
    }

    #[test]
    fn a_steady_leak_is_a_leak() {
        let (x, y) = series(8, 5000.0, |i, r| 20.0 * MIB + 300.0 * r + noise(i));
        let a = assess_series(&x, &y, &Thresholds::default());
        assert_eq!(a.trend, Trend::Leak, "{a:?}");
        let f = a.fit.unwrap();
        assert!(
            f.lo < 300.0 && f.hi > 300.0 && (f.slope - 300.0).abs() < 20.0,
            "{f:?}"
        );
    }

    #[test]
    fn a_slow_leak_under_100_bytes_per_request_is_found() {
        let (x, y) = series(12, 10_000.0, |i, r| 20.0 * MIB + 50.0 * r + noise(i) / 4.0);
        let a = assess_series(&x, &y, &Thresholds::default());
        assert_eq!(a.trend, Trend::Leak, "{a:?}");
    }

    #[test]
    fn a_cache_that_fills_then_stops_is_not_a_leak() {
        let (x, y) = series(10, 5000.0, |i, r| {
            20.0 * MIB + 400.0 * r.min(15_000.0) + noise(i)
        });
        let a = assess_series(&x, &y, &Thresholds::default());
        assert_eq!(a.trend, Trend::Stable, "{a:?}");
    }

    /// A real run (express, a rate limiter keeping 65 B per request) on a busy machine: rounds
    /// of ~400 requests, and the late part fell by 66 KiB over 2,000 requests. Too short a
    /// span to call it flat; the same noise over 5,000-request rounds is.
    #[test]
    fn a_late_part_of_few_requests_is_not_yet_flat() {
        let x = [
            5115.0, 5511.0, 5906.0, 6309.0, 6728.0, 7341.0, 8374.0, 8722.0,
        ];
        let y = [
            7647.0, 7691.0, 7667.0, 7715.0, 7862.0, 7870.0, 7842.0, 7785.0,
        ]
        .map(|k| k * KIB);
        let a = assess_series(&x, &y, &Thresholds::default());
        assert_eq!(a.trend, Trend::Undecided, "{a:?}");
        let long: Vec<f64> = (0..8).map(|i| i as f64 * 5000.0).collect();
        assert_eq!(
            assess_series(&long, &y, &Thresholds::default()).trend,
            Trend::Stable
        );
    }

    #[test]
    fn flat_noise_is_stable_and_few_points_are_undecided() {
        let (x, y) = series(8, 5000.0, |i, _| 20.0 * MIB + noise(i));
        assert_eq!(
            assess_series(&x, &y, &Thresholds::default()).trend,
            Trend::Stable
        );
        let (x, y) = series(4, 5000.0, |i, r| 20.0 * MIB + 300.0 * r + noise(i));
        assert_eq!(
            assess_series(&x, &y, &Thresholds::default()).trend,
            Trend::Undecided
        );
    }

    #[test]
    fn external_growth_names_the_kind() {
        let mk = |i: usize, heap: f64, ext: f64| Sample {
            t_s: i as f64,
            requests: i as u64 * 5000,
            heap_used: heap + noise(i),
            external: ext,
            array_buffers: ext,
            rss: 0.0,
            phase: Phase::Load,
        };
        let s: Vec<Sample> = (0..8)
            .map(|i| mk(i, 20.0 * MIB, MIB + i as f64 * 5000.0 * 1024.0))
            .collect();
        let a = assess(&s, &Thresholds::default());
        assert_eq!(a.leak(), Some(LeakKind::External));
    }

    #[test]
    fn idle_shrink_and_projection() {
        assert!(shrank_when_idle(10.0, 30.0, 12.0));
        assert!(!shrank_when_idle(10.0, 30.0, 29.0));
        // 2 GB at 300 req/s and ~360 B/request: about 5.5 hours.
        let t = time_to_fill_s(2048.0 * MIB, 0.0, 361.5, 300.0).unwrap();
        assert_eq!(human_duration(t), "5.5 hours");
        assert_eq!(time_to_fill_s(MIB, 0.0, 0.0, 300.0), None);
        assert_eq!(human_mb(2048.0), "2.0 GiB");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
