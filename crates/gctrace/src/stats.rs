//! Small, dependency-free statistics for trend detection on short, noisy series.
//!
//! Leak detection asks one question of a series (live set after major GCs, retained heap after
//! each load round): does it keep rising? Ordinary least squares answers badly when one GC lands
//! at an odd moment, so the slope is Theil–Sen (median of pairwise slopes, robust to ~29% outliers),
//! the yes/no comes from Mann–Kendall (a rank test: no assumption of linearity or normal noise),
//! and R² from the least-squares line says how steady the growth is. All functions are
//! O(n²) in the worst case: callers keep series to a few hundred points.
//!
//! This is leakhound's one statistics module: the session's verdict (Sen's interval,
//! [`theil_sen_interval`]; the one-sided [`mann_kendall_p_up`]) and the report's drawn line and
//! `compare` test ([`intercept_for`], [`ols_slope_se`], [`normal_cdf`]) use it, not copies.

use serde::Serialize;

/// A least-squares line `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinearFit {
    pub slope: f64,
    pub intercept: f64,
    /// Coefficient of determination, 0..=1 (1 when y is constant and the slope is 0).
    pub r2: f64,
}

/// Least-squares fit. `None` with fewer than two points, mismatched lengths, non-finite input or
/// all x equal.
pub fn linear_fit(xs: &[f64], ys: &[f64]) -> Option<LinearFit> {
    let n = xs.len();
    if n < 2 || n != ys.len() || !all_finite(xs) || !all_finite(ys) {
        return None;
    }
    let nf = n as f64;
    let mx = xs.iter().sum::<f64>() / nf;
    let my = ys.iter().sum::<f64>() / nf;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r2 = if syy <= 0.0 {
        1.0
    } else {
        ((sxy * sxy) / (sxx * syy)).clamp(0.0, 1.0)
    };
    Some(LinearFit {
        slope,
        intercept,
        r2,
    })
}

/// R² of an arbitrary line against the data (can be negative when the line fits worse than the
/// mean): used to judge a Theil–Sen line by the same yardstick as least squares.
pub fn r_squared(xs: &[f64], ys: &[f64], slope: f64, intercept: f64) -> Option<f64> {
    if xs.len() < 2 || xs.len() != ys.len() {
        return None;
    }
    let my = ys.iter().sum::<f64>() / ys.len() as f64;
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let r = y - (intercept + slope * x);
        ss_res += r * r;
        ss_tot += (y - my) * (y - my);
    }
    if ss_tot <= 0.0 {
        return Some(if ss_res <= 1e-12 { 1.0 } else { 0.0 });
    }
    Some(1.0 - ss_res / ss_tot)
}

/// A Theil–Sen line: the median of all pairwise slopes, and the median of `y - slope*x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TheilSen {
    pub slope: f64,
    pub intercept: f64,
}

/// Theil–Sen estimator. Pairs with equal x are skipped. `None` when no pair has distinct x or the
/// input is not finite.
pub fn theil_sen(xs: &[f64], ys: &[f64]) -> Option<TheilSen> {
    let n = xs.len();
    if n < 2 || n != ys.len() || !all_finite(xs) || !all_finite(ys) {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in (i + 1)..n {
            let dx = xs[j] - xs[i];
            if dx != 0.0 {
                slopes.push((ys[j] - ys[i]) / dx);
            }
        }
    }
    let slope = median(&mut slopes)?;
    let mut resid: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| y - slope * x).collect();
    let intercept = median(&mut resid)?;
    Some(TheilSen { slope, intercept })
}

/// Direction reported by [`mann_kendall`] at the requested significance.
pub use leakhound_schema::gc::Trend;

/// Result of the Mann–Kendall test (normal approximation with tie correction).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannKendall {
    /// Sum of signs over all pairs (positive: rising).
    pub s: i64,
    pub var_s: f64,
    /// Continuity-corrected standard score.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Kendall's tau-a in -1..=1: the share of concordant minus discordant pairs.
    pub tau: f64,
}

impl MannKendall {
    /// The trend direction if `p_value < alpha`.
    pub fn trend(&self, alpha: f64) -> Trend {
        if self.p_value < alpha && self.s > 0 {
            Trend::Increasing
        } else if self.p_value < alpha && self.s < 0 {
            Trend::Decreasing
        } else {
            Trend::None
        }
    }
}

/// Mann–Kendall trend test on a series in time order. `None` with fewer than 3 points or
/// non-finite input.
pub fn mann_kendall(ys: &[f64]) -> Option<MannKendall> {
    let n = ys.len();
    if n < 3 || !all_finite(ys) {
        return None;
    }
    let mut s: i64 = 0;
    for i in 0..n {
        for j in (i + 1)..n {
            let d = ys[j] - ys[i];
            if d > 0.0 {
                s += 1;
            } else if d < 0.0 {
                s -= 1;
            }
        }
    }
    // Tie correction: groups of equal values reduce the variance.
    let mut sorted = ys.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && sorted[j] == sorted[i] {
            j += 1;
        }
        let t = (j - i) as f64;
        if t > 1.0 {
            tie_term += t * (t - 1.0) * (2.0 * t + 5.0);
        }
        i = j;
    }
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - tie_term) / 18.0;
    let z = if var_s <= 0.0 || s == 0 {
        0.0
    } else if s > 0 {
        (s as f64 - 1.0) / var_s.sqrt()
    } else {
        (s as f64 + 1.0) / var_s.sqrt()
    };
    let p_value = if z == 0.0 {
        1.0
    } else {
        (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0)
    };
    let tau = s as f64 / (nf * (nf - 1.0) / 2.0);
    Some(MannKendall {
        s,
        var_s,
        z,
        p_value,
        tau,
    })
}

/// Median; reorders `v`. `None` when empty.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if v.len() % 2 == 1 {
        Some(m)
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((lower + m) / 2.0)
    }
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7): plenty for p-values.
pub fn normal_cdf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    0.5 * (1.0 + sign * y)
}

/// One-sided p-value that `ys` (in time order) trends upward, from [`mann_kendall`]: 1 when
/// the test cannot run (fewer than 3 points, constant series).
pub fn mann_kendall_p_up(ys: &[f64]) -> f64 {
    match mann_kendall(ys) {
        Some(mk) if mk.var_s > 0.0 => 1.0 - normal_cdf(mk.z),
        _ => 1.0,
    }
}

/// A Theil–Sen line with Sen's 95 % interval for its slope and the R² of the robust line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SenFit {
    pub slope: f64,
    pub intercept: f64,
    /// Sen's (1968) 95 % interval for the slope.
    pub lo: f64,
    pub hi: f64,
    /// R² of the robust line (1 − SSres/SStot), floored at 0.
    pub r2: f64,
}

/// [`theil_sen`] plus Sen's rank interval for the slope, whose ranks come from the
/// Mann–Kendall variance. Extra elements of the longer input are ignored. `None` with fewer
/// than two usable points.
pub fn theil_sen_interval(xs: &[f64], ys: &[f64]) -> Option<SenFit> {
    let n = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let line = theil_sen(xs, ys)?;
    let mut slopes = Vec::with_capacity(n * n / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = xs[j] - xs[i];
            if dx != 0.0 {
                slopes.push((ys[j] - ys[i]) / dx);
            }
        }
    }
    slopes.sort_by(f64::total_cmp);
    let var = mann_kendall(ys).map_or(0.0, |m| m.var_s);
    let c = 1.96 * var.sqrt();
    let m = slopes.len() as f64;
    let lo_rank = (((m - c) / 2.0).floor() as isize).clamp(1, slopes.len() as isize) as usize;
    let hi_rank = (((m + c) / 2.0).ceil() as isize + 1).clamp(1, slopes.len() as isize) as usize;
    let r2 = r_squared(xs, ys, line.slope, line.intercept)
        .unwrap_or(0.0)
        .max(0.0);
    Some(SenFit {
        slope: line.slope,
        intercept: line.intercept,
        lo: slopes[lo_rank - 1],
        hi: slopes[hi_rank - 1],
        r2,
    })
}

/// The intercept that goes with a given slope, as Theil–Sen makes it: the median of
/// `y - slope·x`, so one outlying point cannot tilt a drawn line off the data.
pub fn intercept_for(points: &[(f64, f64)], slope: f64) -> Option<f64> {
    let mut r: Vec<f64> = points.iter().map(|&(x, y)| y - slope * x).collect();
    median(&mut r)
}

/// Least-squares slope and its standard error. `None` with fewer than three points, non-finite
/// input or no spread in x.
pub fn ols_slope_se(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    if points.len() < 3 {
        return None;
    }
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let f = linear_fit(&xs, &ys)?;
    let n = points.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sse: f64 = points
        .iter()
        .map(|&(x, y)| (y - f.intercept - f.slope * x).powi(2))
        .sum();
    Some((f.slope, (sse / (n - 2.0) / sxx).sqrt()))
}

fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_fit_exact_line() {
        let xs = [0.0, 1.0, 2.0, 3.0];
        let ys = [1.0, 3.0, 5.0, 7.0];
        let f = linear_fit(&xs, &ys).unwrap();
        assert!((f.slope - 2.0).abs() < 1e-12);
        assert!((f.intercept - 1.0).abs() < 1e-12);
        assert!((f.r2 - 1.0).abs() < 1e-12);
        assert!(linear_fit(&[1.0, 1.0], &[2.0, 3.0]).is_none());
        assert!(linear_fit(&[1.0], &[2.0]).is_none());
    }

    #[test]
    fn theil_sen_ignores_outlier() {
        let xs: Vec<f64> = (0..11).map(f64::from).collect();
        let mut ys: Vec<f64> = xs.iter().map(|x| 10.0 + 0.5 * x).collect();
        ys[5] = 1000.0;
        let ts = theil_sen(&xs, &ys).unwrap();
        assert!((ts.slope - 0.5).abs() < 1e-9, "{ts:?}");
        assert!((ts.intercept - 10.0).abs() < 1e-9, "{ts:?}");
        let ols = linear_fit(&xs, &ys).unwrap();
        assert!(ols.r2 < 0.2, "the outlier ruins OLS: {ols:?}");
    }

    #[test]
    fn mann_kendall_detects_monotone_and_flat() {
        let up: Vec<f64> = (0..20)
            .map(|i| i as f64 + if i % 2 == 0 { 0.3 } else { 0.0 })
            .collect();
        let mk = mann_kendall(&up).unwrap();
        assert_eq!(mk.trend(0.01), Trend::Increasing);
        assert!(mk.p_value < 1e-6);
        let down: Vec<f64> = up.iter().rev().copied().collect();
        assert_eq!(mann_kendall(&down).unwrap().trend(0.01), Trend::Decreasing);
        let flat: Vec<f64> = (0..20).map(|i| [5.0, 5.2, 4.9, 5.1][i % 4]).collect();
        let mk = mann_kendall(&flat).unwrap();
        assert_eq!(mk.trend(0.05), Trend::None, "{mk:?}");
        let constant = [3.0; 10];
        let mk = mann_kendall(&constant).unwrap();
        assert_eq!(mk.s, 0);
        assert_eq!(mk.p_value, 1.0);
    }

    #[test]
    fn mann_kendall_small_sample_reference() {
        // n=5, strictly increasing: S=10, Var=5*4*15/18=16.667, z=(10-1)/4.082=2.205, p≈0.0275.
        let mk = mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(mk.s, 10);
        assert!((mk.var_s - 16.666_666).abs() < 1e-3);
        assert!((mk.p_value - 0.0275).abs() < 1e-3, "{mk:?}");
    }

    #[test]
    fn median_and_cdf() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-5);
    }
    #[test]
    fn sen_interval_holds_the_slope_and_narrows_with_more_points() {
        let noisy = |n: usize| -> SenFit {
            let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let y: Vec<f64> = (0..n)
                .map(|i| 2.0 * i as f64 + if i % 2 == 0 { 0.5 } else { -0.5 })
                .collect();
            theil_sen_interval(&x, &y).unwrap()
        };
        let (a, b) = (noisy(6), noisy(30));
        assert!(b.hi - b.lo < a.hi - a.lo, "{a:?} {b:?}");
        assert!(b.lo <= 2.0 && b.hi >= 2.0);
        assert!(theil_sen_interval(&[1.0, 1.0], &[2.0, 3.0]).is_none());
    }

    #[test]
    fn one_sided_trend_p_and_robust_intercept() {
        let up: Vec<f64> = (0..10).map(f64::from).collect();
        assert!(mann_kendall_p_up(&up) < 0.001);
        let down: Vec<f64> = (0..10).rev().map(f64::from).collect();
        assert!(mann_kendall_p_up(&down) > 0.99);
        assert_eq!(mann_kendall_p_up(&[1.0, 2.0]), 1.0);
        let mut pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 5.0 + 2.0 * i as f64)).collect();
        pts[4].1 += 1000.0;
        assert_eq!(intercept_for(&pts, 2.0), Some(5.0));
    }

    #[test]
    fn ols_recovers_a_line_and_its_noise() {
        let pts: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                (
                    i as f64,
                    3.0 * i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 },
                )
            })
            .collect();
        let (b, se) = ols_slope_se(&pts).unwrap();
        assert!((b - 3.0).abs() < 0.05, "{b}");
        assert!(se > 0.0 && se < 0.1, "{se}");
        assert!(ols_slope_se(&pts[..2]).is_none());
    }
}
