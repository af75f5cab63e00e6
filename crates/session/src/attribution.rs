//! Which endpoint retains memory: a multiple regression of retained bytes on per-endpoint
//! request counts, pure and unit-tested.
//!
//! `leakhound run` varies the endpoint mix between rounds ([`crate::mix`]), so each round's
//! per-endpoint counts differ; regressing each round's change of retained memory on its
//! per-endpoint counts gives bytes retained per request of each endpoint. The fit is
//! non-negative (retention per request cannot be negative, and a negative coefficient would
//! only absorb noise from a leaking neighbour) and Huber-reweighted (a round with a one-off jump
//! — a Map rehashing, a lazily compiled function — weighs less). Intervals are the classical
//! 95 % t intervals of the weighted least-squares fit over all endpoints, so an endpoint pinned
//! at zero by the constraint still gets an honest width.
// Small dense matrices read best with indices.
#![allow(clippy::needless_range_loop)]

/// One endpoint's bytes per request and its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coef {
    pub slope: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Regress `y` (one value per round) on `rows` (one count per endpoint per round). `None`
/// with fewer than `k + 2` rounds (no degrees of freedom left for an interval) or a design in
/// which some endpoint cannot be told apart from the others (singular).
pub fn attribute(rows: &[Vec<f64>], y: &[f64]) -> Option<Vec<Coef>> {
    let n = rows.len().min(y.len());
    let k = rows.first()?.len();
    if k == 0 || n < k + 2 || rows.iter().any(|r| r.len() != k) {
        return None;
    }
    let mut w = vec![1.0; n];
    let mut b = vec![0.0; k];
    for _ in 0..6 {
        b = nnls(&rows[..n], &y[..n], &w)?;
        let r = residuals(&rows[..n], &y[..n], &b);
        let mut abs: Vec<f64> = r.iter().map(|v| v.abs()).collect();
        abs.sort_by(f64::total_cmp);
        // MAD of the residuals (their median is near 0 for a good fit), as a normal sd.
        let s = 1.4826 * abs[n / 2];
        if s <= 0.0 {
            break;
        }
        let c = 1.345 * s;
        w = r
            .iter()
            .map(|v| if v.abs() <= c { 1.0 } else { c / v.abs() })
            .collect();
    }
    let r = residuals(&rows[..n], &y[..n], &b);
    let df = (n - k) as f64;
    let wsum: f64 = w.iter().sum();
    let s2 = r.iter().zip(&w).map(|(e, wi)| wi * e * e).sum::<f64>() / df * (n as f64 / wsum);
    let inv = invert(&normal_matrix(&rows[..n], &w))?;
    let t = t975(n - k);
    Some(
        (0..k)
            .map(|j| {
                let se = (s2 * inv[j][j]).max(0.0).sqrt();
                Coef {
                    slope: b[j],
                    lo: b[j] - t * se,
                    hi: b[j] + t * se,
                }
            })
            .collect(),
    )
}

fn residuals(rows: &[Vec<f64>], y: &[f64], b: &[f64]) -> Vec<f64> {
    rows.iter()
        .zip(y)
        .map(|(r, yi)| yi - r.iter().zip(b).map(|(x, c)| x * c).sum::<f64>())
        .collect()
}

/// X'WX.
fn normal_matrix(rows: &[Vec<f64>], w: &[f64]) -> Vec<Vec<f64>> {
    let k = rows[0].len();
    let mut m = vec![vec![0.0; k]; k];
    for (r, wi) in rows.iter().zip(w) {
        for i in 0..k {
            for j in 0..k {
                m[i][j] += wi * r[i] * r[j];
            }
        }
    }
    m
}

/// Weighted non-negative least squares (Lawson–Hanson active set), for a handful of columns.
fn nnls(rows: &[Vec<f64>], y: &[f64], w: &[f64]) -> Option<Vec<f64>> {
    let k = rows[0].len();
    let ata = normal_matrix(rows, w);
    let mut aty = vec![0.0; k];
    for ((r, yi), wi) in rows.iter().zip(y).zip(w) {
        for j in 0..k {
            aty[j] += wi * r[j] * yi;
        }
    }
    let scale = ata
        .iter()
        .map(|r| r.iter().fold(0.0f64, |a, v| a.max(v.abs())))
        .fold(0.0, f64::max);
    let tol = 1e-12 * scale.max(1e-300);
    let mut x = vec![0.0; k];
    let mut free = vec![false; k];
    // The gradient: X'W(y - Xx) = aty - ata·x.
    let grad = |x: &[f64]| -> Vec<f64> {
        (0..k)
            .map(|i| aty[i] - (0..k).map(|j| ata[i][j] * x[j]).sum::<f64>())
            .collect()
    };
    for _ in 0..(3 * k + 10) {
        let g = grad(&x);
        let next = (0..k)
            .filter(|&j| !free[j])
            .max_by(|&a, &b| g[a].total_cmp(&g[b]))
            .filter(|&j| g[j] > tol * x.iter().map(|v| v.abs()).sum::<f64>().max(1.0));
        let Some(j) = next else { break };
        free[j] = true;
        loop {
            let z = solve_subset(&ata, &aty, &free)?;
            if (0..k).filter(|&i| free[i]).all(|i| z[i] > 0.0) {
                x = z;
                break;
            }
            // Step back towards x until the first free coefficient reaches zero.
            let alpha = (0..k)
                .filter(|&i| free[i] && z[i] <= 0.0)
                .map(|i| x[i] / (x[i] - z[i]))
                .fold(f64::INFINITY, f64::min);
            for i in 0..k {
                x[i] += alpha * (z[i] - x[i]);
                if free[i] && x[i] <= 1e-12 * (1.0 + z[i].abs()) {
                    free[i] = false;
                    x[i] = 0.0;
                }
            }
            if !free.iter().any(|&f| f) {
                break;
            }
        }
    }
    Some(x)
}

/// The unconstrained least-squares solution over the free columns (others 0).
fn solve_subset(ata: &[Vec<f64>], aty: &[f64], free: &[bool]) -> Option<Vec<f64>> {
    let idx: Vec<usize> = (0..free.len()).filter(|&i| free[i]).collect();
    let m: Vec<Vec<f64>> = idx
        .iter()
        .map(|&i| idx.iter().map(|&j| ata[i][j]).collect())
        .collect();
    let inv = invert(&m)?;
    let mut z = vec![0.0; free.len()];
    for (a, &i) in idx.iter().enumerate() {
        z[i] = idx
            .iter()
            .enumerate()
            .map(|(b, &j)| inv[a][b] * aty[j])
            .sum();
    }
    Some(z)
}

/// Gauss–Jordan inverse with partial pivoting; `None` when singular.
fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let k = m.len();
    let mut a: Vec<Vec<f64>> = m.to_vec();
    let mut inv: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let scale = m.iter().flatten().fold(0.0f64, |s, v| s.max(v.abs()));
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() <= 1e-10 * scale {
            return None;
        }
        a.swap(c, p);
        inv.swap(c, p);
        let d = a[c][c];
        for j in 0..k {
            a[c][j] /= d;
            inv[c][j] /= d;
        }
        for i in 0..k {
            if i != c {
                let f = a[i][c];
                if f != 0.0 {
                    for j in 0..k {
                        a[i][j] -= f * a[c][j];
                        inv[i][j] -= f * inv[c][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    match df {
        0 => f64::INFINITY,
        1..=10 => T[df - 1],
        _ => {
            // Cornish–Fisher expansion around the normal quantile (error < 0.001 past 10).
            let z: f64 = 1.959964;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds that each favour one of `k` endpoints (75 % of `n` requests), with `noise(i)`
    /// bytes added to round `i`'s retained change.
    fn favour_one(
        k: usize,
        rounds: usize,
        n: f64,
        truth: &[f64],
        noise: impl Fn(usize) -> f64,
    ) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..rounds {
            let f = i % k;
            let row: Vec<f64> = (0..k)
                .map(|j| {
                    if j == f {
                        0.75 * n
                    } else {
                        0.25 * n / (k - 1) as f64
                    }
                })
                .collect();
            y.push(row.iter().zip(truth).map(|(c, b)| c * b).sum::<f64>() + noise(i));
            rows.push(row);
        }
        (rows, y)
    }

    fn jitter(i: usize) -> f64 {
        [
            31.0, -52.0, 12.0, 47.0, -20.0, 5.0, -38.0, 25.0, -9.0, 60.0, -44.0, 17.0,
        ][i % 12]
            * 1024.0
    }

    #[test]
    fn one_leaking_endpoint_of_eight_is_found_and_the_rest_are_not() {
        let mut truth = vec![0.0; 8];
        truth[3] = 300.0;
        let (rows, y) = favour_one(8, 16, 3000.0, &truth, jitter);
        let c = attribute(&rows, &y).unwrap();
        assert!((c[3].slope - 300.0).abs() < 45.0, "{:?}", c[3]);
        assert!(
            c[3].lo > 10.0 && c[3].hi > 300.0 && c[3].lo < 300.0,
            "{:?}",
            c[3]
        );
        for (j, e) in c.iter().enumerate().filter(|(j, _)| *j != 3) {
            assert!(e.lo < 10.0, "endpoint {j}: {e:?}");
            assert!(e.slope >= 0.0, "non-negative: {e:?}");
        }
    }

    #[test]
    fn two_leaks_of_different_rates_are_ranked() {
        let mut truth = vec![0.0; 6];
        truth[1] = 120.0;
        truth[4] = 600.0;
        let (rows, y) = favour_one(6, 14, 3000.0, &truth, jitter);
        let c = attribute(&rows, &y).unwrap();
        assert!(
            c[4].slope > c[1].slope && c[1].lo > 10.0 && c[4].lo > c[1].hi,
            "{c:?}"
        );
        assert!(c[0].lo < 10.0 && c[5].lo < 10.0, "{c:?}");
    }

    #[test]
    fn one_outlying_round_does_not_make_a_leak() {
        let truth = vec![0.0; 4];
        let (rows, y) = favour_one(4, 12, 3000.0, &truth, |i| {
            jitter(i) + if i == 5 { 4.0 * 1024.0 * 1024.0 } else { 0.0 }
        });
        let c = attribute(&rows, &y).unwrap();
        assert!(c.iter().all(|e| e.lo < 10.0), "{c:?}");
    }

    #[test]
    fn too_few_rounds_or_collinear_counts_give_nothing() {
        let (rows, y) = favour_one(8, 9, 3000.0, &[0.0; 8], jitter);
        assert!(attribute(&rows, &y).is_none());
        // Every round sends the same mix: the endpoints cannot be told apart.
        let rows = vec![vec![1000.0, 1000.0]; 8];
        assert!(attribute(&rows, &[5.0e5; 8]).is_none());
    }

    #[test]
    fn t_quantiles() {
        assert_eq!(t975(1), 12.706);
        assert!((t975(30) - 2.042).abs() < 0.002, "{}", t975(30));
        assert!((t975(1000) - 1.962).abs() < 0.002);
    }
}
