//! Robust trend statistics over short series: Theil–Sen slope with Sen's confidence
//! interval, the Mann–Kendall trend test, and R² of the robust line. The estimators are
//! `leakhound-gctrace`'s; the interval is added here.
//!
//! Series here are a few dozen points (one per load round), so the O(n²) pairwise forms are
//! cheap and exact.

use leakhound_gctrace::stats as gs;

pub use gs::normal_cdf;

/// One-sided p-value that `y` (in time order) trends upward (Mann–Kendall, from
/// `leakhound-gctrace`, with its tie correction).
pub fn mann_kendall_p_up(y: &[f64]) -> f64 {
    match gs::mann_kendall(y) {
        Some(mk) if mk.var_s > 0.0 => 1.0 - normal_cdf(mk.z),
        _ => 1.0,
    }
}

/// A robust line through (x, y): slope, intercept, and Sen's 95 % interval for the slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    pub lo: f64,
    pub hi: f64,
    /// R² of the robust line (1 − SSres/SStot), 0 when y is constant.
    pub r2: f64,
}

/// Theil–Sen (the estimator from `leakhound-gctrace`) plus Sen's (1968) rank interval for the
/// slope, whose ranks come from the Mann–Kendall variance. `None` with fewer than two usable
/// points.
pub fn theil_sen(x: &[f64], y: &[f64]) -> Option<Fit> {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let line = gs::theil_sen(x, y)?;
    let mut slopes = Vec::with_capacity(n * n / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = x[j] - x[i];
            if dx != 0.0 {
                slopes.push((y[j] - y[i]) / dx);
            }
        }
    }
    slopes.sort_by(|a, b| a.total_cmp(b));
    let var = gs::mann_kendall(y).map_or(0.0, |m| m.var_s);
    let c = 1.96 * var.sqrt();
    let m = slopes.len() as f64;
    let lo_rank = (((m - c) / 2.0).floor() as isize).clamp(1, slopes.len() as isize) as usize;
    let hi_rank = (((m + c) / 2.0).ceil() as isize + 1).clamp(1, slopes.len() as isize) as usize;
    let r2 = gs::r_squared(x, y, line.slope, line.intercept)
        .unwrap_or(0.0)
        .max(0.0);
    Some(Fit {
        slope: line.slope,
        intercept: line.intercept,
        lo: slopes[lo_rank - 1],
        hi: slopes[hi_rank - 1],
        r2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_is_right_at_known_points() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.645) - 0.05).abs() < 1e-3);
    }

    #[test]
    fn theil_sen_ignores_an_outlier() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let mut y: Vec<f64> = x.iter().map(|v| 3.0 * v + 1.0).collect();
        y[4] = 1000.0;
        let f = theil_sen(&x, &y).unwrap();
        assert!((f.slope - 3.0).abs() < 1e-9, "{f:?}");
        assert!((f.intercept - 1.0).abs() < 1e-9);
        assert!(f.lo <= 3.0 && f.hi >= 3.0);
    }

    #[test]
    fn theil_sen_needs_two_distinct_x() {
        assert!(theil_sen(&[1.0, 1.0], &[2.0, 3.0]).is_none());
        assert!(theil_sen(&[1.0], &[2.0]).is_none());
    }

    #[test]
    fn mann_kendall_sees_a_monotone_rise_and_not_noise() {
        let up: Vec<f64> = (0..10).map(f64::from).collect();
        assert!(mann_kendall_p_up(&up) < 0.001);
        let flat = [5.0, 4.0, 6.0, 5.0, 4.0, 6.0, 5.0, 4.0, 6.0, 5.0];
        assert!(mann_kendall_p_up(&flat) > 0.2);
        let down: Vec<f64> = (0..10).rev().map(f64::from).collect();
        assert!(mann_kendall_p_up(&down) > 0.99);
    }

    #[test]
    fn the_interval_narrows_with_more_points() {
        let noisy = |n: usize| -> Fit {
            let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let y: Vec<f64> = (0..n)
                .map(|i| 2.0 * i as f64 + if i % 2 == 0 { 0.5 } else { -0.5 })
                .collect();
            theil_sen(&x, &y).unwrap()
        };
        let (a, b) = (noisy(6), noisy(30));
        assert!(b.hi - b.lo < a.hi - a.lo, "{a:?} {b:?}");
        assert!(b.lo <= 2.0 && b.hi >= 2.0);
    }
}
