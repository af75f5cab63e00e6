//! The shape of retained growth: a leak grows at a steady rate; a cache or an index over a
//! bounded key space grows ever more slowly (each new request is less likely to bring a new key:
//! the coupon collector) and then stops. Calling the second a leak while it is still slowing is
//! the classic false alarm, so a run whose growth is concave keeps sampling until it plateaus
//! (no leak) or stops slowing (a leak). Pure.
// Small dense matrices read best with indices.
#![allow(clippy::needless_range_loop)]

use crate::attribution::t975;
use crate::stats::theil_sen;
use crate::verdict::{Sample, Thresholds};

/// What the load-phase series looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Growth at a steady rate, or no growth: the leak/stable rules apply as they are.
    Steady,
    /// Concave: the growth rate at the end of the recent samples is significantly lower than at
    /// their start (bytes/request at the start and at the end).
    Slowing { start_bpr: f64, end_bpr: f64 },
    /// It grew (by `grew` bytes), more and more slowly, and the last samples are flat or the
    /// saturating curve has little left to fill: `level` bytes after `requests` requests.
    Plateau {
        level: f64,
        requests: u64,
        grew: f64,
    },
}

/// Fewest samples for a curvature test (a quadratic with four degrees of freedom left).
pub const MIN_POINTS: usize = 7;

/// The shape of `value` over the load-phase samples `load`.
pub fn shape(load: &[Sample], value: impl Fn(&Sample) -> f64, th: &Thresholds) -> Shape {
    let n = load.len();
    if n < MIN_POINTS {
        return Shape::Steady;
    }
    let x: Vec<f64> = load.iter().map(|s| s.requests as f64).collect();
    let y: Vec<f64> = load.iter().map(&value).collect();
    // Plateau: the trailing quarter (at least 5 samples) is flat, after real growth that slowed.
    let w = (n / 4).max(5);
    let (tx, ty) = (&x[n - w..], &y[n - w..]);
    let grew = y[n - 1] - y[0];
    if let (Some(all), Some(tail)) = (theil_sen(&x, &y), theil_sen(tx, ty)) {
        let tail_growth = tail.slope * (tx[w - 1] - tx[0]);
        // Little growth in the tail counts only over enough requests, and when the tail is
        // also far slower than the whole series (significantly, and under a quarter of its
        // rate): on a slow target the trailing quarter spans few requests, and a steady leak
        // grows little there too, by less than the noise of a few readings.
        let span_ok = tx[w - 1] - tx[0] >= th.min_stable_span;
        let slowed = tail.hi < all.lo && tail.slope < 0.25 * all.slope;
        let flat = span_ok
            && (tail.hi < th.stable_bpr || (tail_growth.abs() < th.stable_growth && slowed));
        // Or nearly full: a saturating curve fits far better than a line, little is left to
        // fill, and the last samples grow no faster than the curve says (a leak behind a
        // filling cache would).
        let nearly_full = saturating(&x, &y).is_some_and(|f| {
            let curve = (f.at(tx[w - 1]) - f.at(tx[0])) / (tx[w - 1] - tx[0]).max(1.0);
            f.remaining < th.min_growth && tail.slope <= 1.5 * curve + th.min_bpr
        });
        if (flat || nearly_full) && all.lo > th.min_bpr && grew > th.min_growth {
            return Shape::Plateau {
                level: y[n - 1],
                requests: load[n - 1].requests,
                grew: y[n - 1] - y[0],
            };
        }
    }
    // Slowing: a quadratic over the recent half (at least MIN_POINTS) bends down significantly.
    let m = (n / 2).max(MIN_POINTS);
    match curvature(&x[n - m..], &y[n - m..]) {
        Some((start, end)) if start > th.min_bpr && end < 0.9 * start => Shape::Slowing {
            start_bpr: start,
            end_bpr: end,
        },
        _ => Shape::Steady,
    }
}

/// Has the heap already filled 70 % of its limit (V8's `heap_size_limit`, at most the old
/// space `heap_mb`)? The loop stops there on growth ([`crate::checkpoint`]) whatever its shape,
/// and growth that slows down that late is no cache about to settle: it runs out first. (On a
/// time axis a leak's growth also slows as the heap fills: each GC takes longer and the load
/// gets fewer requests through.)
pub fn fills_heap(load: &[Sample], heap_limit: f64, heap_mb: u64) -> bool {
    let old_space = heap_mb as f64 * crate::verdict::MIB;
    let limit = match heap_limit {
        l if l > 0.0 && old_space > 0.0 => l.min(old_space),
        l if l > 0.0 => l,
        _ => old_space,
    };
    limit > 0.0 && load.last().is_some_and(|s| s.heap_used > 0.7 * limit)
}

/// A saturating curve `y = a − b·e^(−x/τ)` fitted to a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Saturating {
    /// The level it tends to, and what is left to fill after the last point (bytes).
    pub asymptote: f64,
    pub remaining: f64,
    /// Its slope at the last point (bytes/request).
    pub end_slope: f64,
    b: f64,
    tau: f64,
    x0: f64,
}

impl Saturating {
    /// The curve's value at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.asymptote - self.b * (-(x - self.x0) / self.tau).exp()
    }
}

/// The best saturating curve over a grid of τ (linear least squares in `a`, `b` for each),
/// when it leaves at most a quarter of a straight line's squared error; `None` otherwise.
pub fn saturating(x: &[f64], y: &[f64]) -> Option<Saturating> {
    let n = x.len();
    if n < MIN_POINTS + 3 {
        return None;
    }
    let (x0, span) = (x[0], x[n - 1] - x[0]);
    if span <= 0.0 {
        return None;
    }
    let line_rss = {
        let f = leakhound_gctrace::stats::linear_fit(x, y)?;
        x.iter()
            .zip(y)
            .map(|(xi, yi)| (yi - f.intercept - f.slope * xi).powi(2))
            .sum::<f64>()
    };
    let mut best: Option<(f64, f64, f64, f64)> = None; // (rss, tau, a, b)
    for i in 0..60 {
        let tau = span * 0.02 * 1.1f64.powi(i);
        let e: Vec<f64> = x.iter().map(|v| (-(v - x0) / tau).exp()).collect();
        let fit = leakhound_gctrace::stats::linear_fit(&e, y)?;
        // y = intercept + slope·e: a = intercept, b = −slope (b > 0 for growth).
        let (a, b) = (fit.intercept, -fit.slope);
        if b <= 0.0 {
            continue;
        }
        let rss: f64 = e
            .iter()
            .zip(y)
            .map(|(ei, yi)| (yi - a + b * ei).powi(2))
            .sum();
        if best.is_none_or(|bst| rss < bst.0) {
            best = Some((rss, tau, a, b));
        }
    }
    let (rss, tau, a, b) = best?;
    if rss > 0.25 * line_rss {
        return None;
    }
    let left = b * (-(x[n - 1] - x0) / tau).exp();
    Some(Saturating {
        asymptote: a,
        remaining: left,
        end_slope: left / tau,
        b,
        tau,
        x0,
    })
}

/// The slope at the first and the last point of a quadratic fitted to (x, y), when its
/// curvature is significantly negative (95 %); `None` otherwise.
pub fn curvature(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len();
    if n < 4 {
        return None;
    }
    let (lo, hi) = (x[0], x[n - 1]);
    let span = hi - lo;
    if span <= 0.0 {
        return None;
    }
    // u in [-1, 1] keeps the normal equations well conditioned.
    let u: Vec<f64> = x.iter().map(|v| 2.0 * (v - lo) / span - 1.0).collect();
    let rows: Vec<[f64; 3]> = u.iter().map(|&v| [1.0, v, v * v]).collect();
    let mut a = [[0.0; 3]; 3];
    let mut b = [0.0; 3];
    for (r, yi) in rows.iter().zip(y) {
        for i in 0..3 {
            b[i] += r[i] * yi;
            for j in 0..3 {
                a[i][j] += r[i] * r[j];
            }
        }
    }
    let inv = invert3(&a)?;
    let c: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| inv[i][j] * b[j]).sum())
        .collect();
    let rss: f64 = rows
        .iter()
        .zip(y)
        .map(|(r, yi)| (yi - (c[0] + c[1] * r[1] + c[2] * r[2])).powi(2))
        .sum();
    let s2 = rss / (n - 3) as f64;
    let se2 = (s2 * inv[2][2]).sqrt();
    if c[2] + t975(n - 3) * se2 >= 0.0 {
        return None;
    }
    // dy/dx = (dy/du)(du/dx) = (c1 + 2 c2 u) · 2 / span.
    let slope = |u: f64| (c[1] + 2.0 * c[2] * u) * 2.0 / span;
    Some((slope(-1.0), slope(1.0)))
}

fn invert3(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 {
        return None;
    }
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let (a, b) = ((j + 1) % 3, (j + 2) % 3);
            let (c, d) = ((i + 1) % 3, (i + 2) % 3);
            r[i][j] = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det;
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Phase, KIB, MIB};

    fn load(n: usize, per_round: u64, f: impl Fn(f64) -> f64) -> Vec<Sample> {
        (0..n)
            .map(|i| {
                let r = i as u64 * per_round;
                let jitter = [20.0, -35.0, 5.0, 40.0, -10.0, -25.0, 30.0][i % 7] * KIB;
                Sample {
                    t_s: i as f64,
                    requests: r,
                    heap_used: 20.0 * MIB + f(r as f64) + jitter,
                    external: 0.0,
                    array_buffers: 0.0,
                    rss: 0.0,
                    phase: Phase::Load,
                }
            })
            .collect()
    }

    /// Load samples from (requests, heap used) pairs, one a second.
    fn samples(seen: &[(u64, f64)]) -> Vec<Sample> {
        seen.iter()
            .enumerate()
            .map(|(i, &(requests, heap_used))| Sample {
                t_s: i as f64,
                requests,
                heap_used,
                external: 0.0,
                array_buffers: 0.0,
                rss: 0.0,
                phase: Phase::Load,
            })
            .collect()
    }

    /// A 65 MB index over 20,000 keys filled by random requests: 65 MB · (1 − e^(−n/20,000)).
    fn index(n: f64) -> f64 {
        65.0 * MIB * (1.0 - (-n / 20_000.0).exp())
    }

    #[test]
    fn an_index_filling_up_is_slowing_then_a_plateau() {
        let th = Thresholds::default();
        // Eight seconds in: 9 rounds of 800 requests, 30 % of the keys.
        let s = load(9, 800, index);
        assert!(
            matches!(shape(&s, |s| s.heap_used, &th), Shape::Slowing { .. }),
            "{:?}",
            shape(&s, |s| s.heap_used, &th)
        );
        // Filled: 40 rounds of 4,000 requests.
        let s = load(40, 4000, index);
        match shape(&s, |s| s.heap_used, &th) {
            Shape::Plateau {
                level, requests, ..
            } => {
                assert!((level - 85.0 * MIB).abs() < MIB, "{}", level / MIB);
                assert_eq!(requests, 39 * 4000);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nearly_full_is_a_plateau_but_a_leak_behind_a_filling_cache_is_not() {
        let th = Thresholds::default();
        // 99 % of the keys after 92,000 requests: 0.7 MB left to fill.
        let s = load(24, 4000, index);
        assert!(
            matches!(shape(&s, |s| s.heap_used, &th), Shape::Plateau { .. }),
            "{:?}",
            shape(&s, |s| s.heap_used, &th)
        );
        let f = saturating(
            &s.iter().map(|s| s.requests as f64).collect::<Vec<_>>(),
            &s.iter().map(|s| s.heap_used).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(
            (f.asymptote - 85.0 * MIB).abs() < MIB && f.remaining < 1.5 * MIB,
            "{f:?}"
        );
        // The same index, and a 100 B/request leak: never a plateau.
        let s = load(24, 4000, |r| index(r) + 100.0 * r);
        assert!(!matches!(
            shape(&s, |s| s.heap_used, &th),
            Shape::Plateau { .. }
        ));
    }

    #[test]
    fn a_steady_leak_is_steady_and_a_leak_after_a_warm_up_bump_stops_slowing() {
        let th = Thresholds::default();
        let s = load(12, 5000, |r| 300.0 * r);
        assert_eq!(shape(&s, |s| s.heap_used, &th), Shape::Steady);
        // A bump over the first 10,000 requests, then a steady leak: the recent half is linear.
        let s = load(20, 5000, |r| {
            300.0 * r + 4.0 * MIB * (r / 10_000.0).min(1.0)
        });
        assert_eq!(shape(&s, |s| s.heap_used, &th), Shape::Steady);
    }

    #[test]
    fn a_heap_past_70_percent_of_its_limit_is_filled() {
        let s = load(9, 800, index);
        let last = s[8].heap_used;
        assert!(fills_heap(&s, last / 0.75, 1024));
        assert!(!fills_heap(&s, last / 0.6, 1024));
        // The old space bounds V8's limit (which adds the young generation).
        assert!(fills_heap(&s, 10.0 * last, (last / 0.75 / MIB) as u64));
        assert!(!fills_heap(&s, 0.0, 0));
    }

    #[test]
    fn flat_noise_has_no_shape_and_curvature_needs_points() {
        let th = Thresholds::default();
        let s = load(12, 5000, |_| 0.0);
        assert_eq!(shape(&s, |s| s.heap_used, &th), Shape::Steady);
        assert_eq!(curvature(&[0.0, 1.0, 2.0], &[0.0, 1.0, 1.5]), None);
    }

    /// A real run (express, a rate limiter that keeps every hit: 65 B/request, r² 0.97) on a
    /// loaded machine: ~1,400 requests/s, so the trailing quarter spans only 2,500 requests and
    /// grows less than `stable_growth` although it grows at the leak's rate. Not a plateau.
    #[test]
    fn a_slow_leak_whose_short_tail_grows_little_is_no_plateau() {
        let th = Thresholds::default();
        let seen: [(u64, f64); 24] = [
            (1656, 7409664.0),
            (3284, 7892832.0),
            (4555, 7895128.0),
            (5991, 7987136.0),
            (6894, 8026280.0),
            (7204, 8002368.0),
            (7582, 8094160.0),
            (9025, 8200048.0),
            (10482, 8345720.0),
            (12023, 8419320.0),
            (13673, 8514688.0),
            (14080, 8461376.0),
            (14841, 8536800.0),
            (15219, 8569840.0),
            (16748, 8764168.0),
            (17652, 8806928.0),
            (17979, 8798440.0),
            (18308, 8763800.0),
            (18619, 8796984.0),
            (19420, 8889608.0),
            (19712, 8845704.0),
            (19994, 8841672.0),
            (20525, 8892552.0),
            (21905, 9111176.0),
        ];
        let s = samples(&seen);
        for from in [0, 1] {
            let got = shape(&s[from..], |s| s.heap_used, &th);
            assert!(!matches!(got, Shape::Plateau { .. }), "{from}: {got:?}");
        }
    }

    /// Another run of the same app: 29 rounds, 67 B/request all along.
    #[test]
    fn the_same_slow_leak_over_more_rounds_is_no_plateau() {
        let th = Thresholds::default();
        let seen: [(u64, f64); 29] = [
            (2417, 7526648.0),
            (4041, 7792384.0),
            (5002, 7715344.0),
            (6741, 7951616.0),
            (8235, 7930624.0),
            (9595, 8069664.0),
            (10900, 8171056.0),
            (11638, 8130288.0),
            (12770, 8245728.0),
            (13596, 8265128.0),
            (14437, 8324560.0),
            (16190, 8593968.0),
            (17605, 8603624.0),
            (18213, 8606448.0),
            (19405, 8723120.0),
            (20240, 8738656.0),
            (20958, 8734992.0),
            (21744, 8791360.0),
            (22620, 8968584.0),
            (23455, 9020808.0),
            (24857, 9145904.0),
            (26202, 9190568.0),
            (27190, 9246552.0),
            (28444, 9367720.0),
            (29465, 9379272.0),
            (30233, 9416704.0),
            (30793, 9389864.0),
            (31941, 9493864.0),
            (32420, 9488400.0),
        ];
        let s = samples(&seen);
        for from in [0, 1] {
            let got = shape(&s[from..], |s| s.heap_used, &th);
            assert!(!matches!(got, Shape::Plateau { .. }), "{from}: {got:?}");
        }
    }
}
