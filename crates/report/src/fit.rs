//! The fitted line drawn over the retained-heap samples, and the slope statistics `compare`
//! needs.

use crate::run_schema::{Phase, RunReport, RunSample};

/// The samples the verdict's regression uses: those taken after load rounds, or, for runs that
/// never reached a load round, everything after the baseline.
pub fn fit_samples(r: &RunReport) -> Vec<&RunSample> {
    let load: Vec<&RunSample> = r
        .samples
        .iter()
        .filter(|s| s.phase == Phase::Load)
        .collect();
    if load.len() >= 2 {
        return load;
    }
    r.samples
        .iter()
        .filter(|s| s.phase != Phase::Baseline)
        .collect()
}

pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The intercept that goes with a robust slope: the median of `y - slope·x` (as Theil–Sen
/// does), so one outlying sample cannot tilt the drawn line off the data.
pub fn robust_intercept(points: &[(f64, f64)], slope: f64) -> Option<f64> {
    let mut r: Vec<f64> = points.iter().map(|&(x, y)| y - slope * x).collect();
    median(&mut r)
}

/// Ordinary least squares slope and its standard error, for runs whose JSON carries no
/// interval. `None` with fewer than three points or no spread in x.
pub fn ols_slope_se(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let sse: f64 = points.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
    Some((b, (sse / (n - 2.0) / sxx).sqrt()))
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; error below 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intercept_ignores_an_outlier() {
        let mut pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 5.0 + 2.0 * i as f64)).collect();
        pts[4].1 += 1000.0;
        assert_eq!(robust_intercept(&pts, 2.0), Some(5.0));
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

    #[test]
    fn normal_cdf_matches_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.645) - 0.05).abs() < 1e-3);
    }
}
