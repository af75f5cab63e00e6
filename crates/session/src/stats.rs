//! Robust trend statistics over short series: Theil–Sen slope with Sen's confidence
//! interval, the Mann–Kendall trend test, and R² of the robust line.
//!
//! Series here are a few dozen points (one per load round), so the O(n²) pairwise forms are
//! cheap and exact.

/// The normal CDF, through the Abramowitz–Stegun 7.1.26 erf (error < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Mann–Kendall S statistic and its variance (ties ignored in the variance: the values are
/// byte counts, ties are rare).
fn mk_s(y: &[f64]) -> (f64, f64) {
    let n = y.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            let d = y[j] - y[i];
            if d > 0.0 {
                s += 1.0;
            } else if d < 0.0 {
                s -= 1.0;
            }
        }
    }
    let nf = n as f64;
    (s, nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0)
}

/// One-sided p-value that `y` (in time order) trends upward.
pub fn mann_kendall_p_up(y: &[f64]) -> f64 {
    if y.len() < 3 {
        return 1.0;
    }
    let (s, var) = mk_s(y);
    if var <= 0.0 {
        return 1.0;
    }
    let z = if s > 0.0 {
        (s - 1.0) / var.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / var.sqrt()
    } else {
        0.0
    };
    1.0 - normal_cdf(z)
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

/// Theil–Sen over pairs with distinct x. `None` with fewer than two usable points.
pub fn theil_sen(x: &[f64], y: &[f64]) -> Option<Fit> {
    let n = x.len().min(y.len());
    let mut slopes = Vec::with_capacity(n * n / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = x[j] - x[i];
            if dx != 0.0 {
                slopes.push((y[j] - y[i]) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(|a, b| a.total_cmp(b));
    let slope = median_sorted(&slopes);
    let mut icpt: Vec<f64> = (0..n).map(|i| y[i] - slope * x[i]).collect();
    icpt.sort_by(|a, b| a.total_cmp(b));
    let intercept = median_sorted(&icpt);
    // Sen (1968): the interval's ranks come from the Mann–Kendall variance.
    let (_, var) = mk_s(&y[..n]);
    let c = 1.96 * var.sqrt();
    let m = slopes.len() as f64;
    let lo_rank = (((m - c) / 2.0).floor() as isize).clamp(1, slopes.len() as isize) as usize;
    let hi_rank = (((m + c) / 2.0).ceil() as isize + 1).clamp(1, slopes.len() as isize) as usize;
    let mean = y[..n].iter().sum::<f64>() / n as f64;
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for i in 0..n {
        let r = y[i] - (intercept + slope * x[i]);
        ss_res += r * r;
        ss_tot += (y[i] - mean).powi(2);
    }
    let r2 = if ss_tot > 0.0 {
        (1.0 - ss_res / ss_tot).max(0.0)
    } else {
        0.0
    };
    Some(Fit {
        slope,
        intercept,
        lo: slopes[lo_rank - 1],
        hi: slopes[hi_rank - 1],
        r2,
    })
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
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
