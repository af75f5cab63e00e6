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
    // Slowing: a quadratic over the recent half (at least MIN_POINTS) bends down significantly,
    // and not by one jump ([`one_jump`]).
    let m = (n / 2).max(MIN_POINTS);
    let (rx, ry) = (&x[n - m..], &y[n - m..]);
    match curvature(rx, ry) {
        Some((start, end)) if slows(start, end, th) && !one_jump(rx, ry, th) => Shape::Slowing {
            start_bpr: start,
            end_bpr: end,
        },
        _ => Shape::Steady,
    }
}

/// A rate that starts above the noise floor and ends at least 10 % lower.
fn slows(start: f64, end: f64, th: &Thresholds) -> bool {
    start > th.min_bpr && end < 0.9 * start
}

/// Is the bend of (x, y) one jump? A leak kept in a `Map`, a `Set`, an array or a
/// dictionary-mode object grows its backing store by doubling, so its retained memory is a
/// line with a step at each doubling (V8's `Map` adds ~470 KB at 16,384 entries, ~940 KB at
/// 32,768): over a few rounds, one step early in the window bends a quadratic as a cache's
/// saturation does (a cluster worker leaking 600 B/request read as "352 → 246 B/request").
/// A cache's rate falls round after round; a step is one interval that grew faster than both
/// its neighbours. So when the interval that grew most above the robust rate is such a peak,
/// the bend must hold with the points after it free to sit one jump higher.
pub fn one_jump(x: &[f64], y: &[f64], th: &Thresholds) -> bool {
    let n = x.len();
    let Some(robust) = theil_sen(x, y) else {
        return false;
    };
    let rate = |i: usize| (y[i + 1] - y[i]) / (x[i + 1] - x[i]).max(1.0);
    let excess = |i: usize| (y[i + 1] - y[i]) - robust.slope * (x[i + 1] - x[i]);
    let Some(j) = (0..n - 1).max_by(|&a, &b| excess(a).total_cmp(&excess(b))) else {
        return false;
    };
    let peak = j > 0 && j + 1 < n - 1 && rate(j) > rate(j - 1) && rate(j) > rate(j + 1);
    peak && !curvature_past(x, y, j).is_some_and(|(start, end)| slows(start, end, th))
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
    bend::<3>(x, y, usize::MAX)
}

/// [`curvature`] with the points after interval `step` (from `x[step]` to `x[step + 1]`) free
/// to be offset by one jump (a fourth term).
pub fn curvature_past(x: &[f64], y: &[f64], step: usize) -> Option<(f64, f64)> {
    bend::<4>(x, y, step)
}

/// Least squares of y on 1, u, u² (and, with `P` = 4, a jump after point `step`), with u the
/// x scaled to [-1, 1]; the slopes at both ends when the u² term is significantly negative.
fn bend<const P: usize>(x: &[f64], y: &[f64], step: usize) -> Option<(f64, f64)> {
    let n = x.len();
    if n < P + 1 {
        return None;
    }
    let (lo, hi) = (x[0], x[n - 1]);
    let span = hi - lo;
    if span <= 0.0 {
        return None;
    }
    // u in [-1, 1] keeps the normal equations well conditioned.
    let rows: Vec<[f64; P]> = x
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let u = 2.0 * (v - lo) / span - 1.0;
            let mut r = [0.0; P];
            r[0] = 1.0;
            r[1] = u;
            r[2] = u * u;
            if let Some(jump) = r.get_mut(3) {
                *jump = if k > step { 1.0 } else { 0.0 };
            }
            r
        })
        .collect();
    let mut a = [[0.0; P]; P];
    let mut b = [0.0; P];
    for (r, yi) in rows.iter().zip(y) {
        for i in 0..P {
            b[i] += r[i] * yi;
            for j in 0..P {
                a[i][j] += r[i] * r[j];
            }
        }
    }
    let inv = invert(a)?;
    let c: Vec<f64> = (0..P)
        .map(|i| (0..P).map(|j| inv[i][j] * b[j]).sum())
        .collect();
    let rss: f64 = rows
        .iter()
        .zip(y)
        .map(|(r, yi)| (yi - (0..P).map(|i| c[i] * r[i]).sum::<f64>()).powi(2))
        .sum();
    let s2 = rss / (n - P) as f64;
    let se2 = (s2 * inv[2][2]).max(0.0).sqrt();
    if c[2] + t975(n - P) * se2 >= 0.0 {
        return None;
    }
    // dy/dx = (dy/du)(du/dx) = (c1 + 2 c2 u) · 2 / span.
    let slope = |u: f64| (c[1] + 2.0 * c[2] * u) * 2.0 / span;
    Some((slope(-1.0), slope(1.0)))
}

/// The inverse of a small matrix (Gauss–Jordan with partial pivoting); `None` when singular.
fn invert<const P: usize>(mut m: [[f64; P]; P]) -> Option<[[f64; P]; P]> {
    let mut r = [[0.0; P]; P];
    for (i, row) in r.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..P {
        let pivot = (col..P).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        r.swap(col, pivot);
        let f = m[col][col];
        for j in 0..P {
            m[col][j] /= f;
            r[col][j] /= f;
        }
        for row in 0..P {
            if row != col {
                let g = m[row][col];
                for j in 0..P {
                    m[row][j] -= g * m[col][j];
                    r[row][j] -= g * r[col][j];
                }
            }
        }
    }
    Some(r)
}

#[cfg(test)]
#[path = "shape_tests.rs"]
pub(crate) mod tests;
