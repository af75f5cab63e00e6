//! Per-endpoint verdicts: which route retains memory, from the load rounds' changes of retained
//! memory and their per-endpoint request counts ([`crate::attribution`]). Pure.

use leakhound_report::run_schema::Verdict;

use crate::attribution::{attribute, Coef};
use crate::verdict::{Sample, Thresholds};

/// An endpoint as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointId {
    pub name: String,
    pub method: String,
    pub path: String,
}

/// What the regression says of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndpointFinding {
    /// Index into [`crate::observations::Observations::endpoints`].
    pub index: usize,
    /// Requests over the run (warm-up included).
    pub requests: u64,
    /// Requests over the regressed rounds.
    pub load_requests: u64,
    pub coef: Coef,
    pub verdict: Verdict,
}

/// Retention per request under which an endpoint is called clean even when its interval is
/// wide: a tenth of a 1 KiB object every request (bytes/request).
pub const MATERIAL_BPR: f64 = 100.0;

/// Judge each endpoint from the load-phase samples `load` and the cumulative per-endpoint
/// request counts at each of them (`counts`, aligned), on the memory series `value`. `None`
/// when there are too few rounds for the endpoints' number. Sorted leaks first, then by bytes
/// per request.
pub fn assess(
    load: &[Sample],
    counts: &[Vec<u64>],
    value: impl Fn(&Sample) -> f64,
    th: &Thresholds,
) -> Option<Vec<EndpointFinding>> {
    let n = load.len().min(counts.len());
    if n < 2 {
        return None;
    }
    let k = counts[0].len();
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for i in 1..n {
        if counts[i].len() != k || counts[i - 1].len() != k {
            return None;
        }
        rows.push(
            (0..k)
                .map(|j| counts[i][j].saturating_sub(counts[i - 1][j]) as f64)
                .collect::<Vec<f64>>(),
        );
        y.push(value(&load[i]) - value(&load[i - 1]));
    }
    let coefs = attribute(&rows, &y)?;
    let mut out: Vec<EndpointFinding> = coefs
        .into_iter()
        .enumerate()
        .map(|(j, coef)| {
            let load_requests = counts[n - 1][j].saturating_sub(counts[0][j]);
            let retained = coef.slope * load_requests as f64;
            let verdict = if coef.lo > th.min_bpr && retained > th.min_late_growth {
                Verdict::Leak
            } else if coef.hi < MATERIAL_BPR.max(th.stable_bpr) || retained < th.stable_growth {
                Verdict::NoLeak
            } else {
                Verdict::Inconclusive
            };
            EndpointFinding {
                index: j,
                requests: counts[n - 1][j],
                load_requests,
                coef,
                verdict,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let leak = |f: &EndpointFinding| u8::from(f.verdict != Verdict::Leak);
        leak(a)
            .cmp(&leak(b))
            .then(b.coef.slope.total_cmp(&a.coef.slope))
    });
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Phase, KIB};

    /// `rounds` load samples over 3 endpoints, each round favouring one, endpoint 1 leaking
    /// `bpr` bytes/request.
    fn run(rounds: usize, bpr: f64) -> (Vec<Sample>, Vec<Vec<u64>>) {
        let mut cum = vec![1000u64; 3];
        let mut heap = 30.0 * 1024.0 * 1024.0;
        let mut samples = Vec::new();
        let mut counts = Vec::new();
        for i in 0..rounds {
            if i > 0 {
                let fav = i % 3;
                for (j, c) in cum.iter_mut().enumerate() {
                    let add = if j == fav { 3000 } else { 500 };
                    *c += add;
                    if j == 1 {
                        heap += bpr * add as f64;
                    }
                }
            }
            let jitter = [20.0, -35.0, 5.0, 40.0, -10.0, -25.0, 30.0][i % 7] * KIB;
            samples.push(Sample {
                t_s: i as f64,
                requests: cum.iter().sum(),
                heap_used: heap + jitter,
                external: 0.0,
                array_buffers: 0.0,
                rss: 0.0,
                phase: Phase::Load,
            });
            counts.push(cum.clone());
        }
        (samples, counts)
    }

    #[test]
    fn the_leaking_endpoint_comes_first_and_the_others_are_clean() {
        let (s, c) = run(12, 300.0);
        let f = assess(&s, &c, |s| s.heap_used, &Thresholds::default()).unwrap();
        assert_eq!(f[0].index, 1);
        assert_eq!(f[0].verdict, Verdict::Leak);
        assert!((f[0].coef.slope - 300.0).abs() < 60.0, "{:?}", f[0]);
        assert!(f[1..].iter().all(|e| e.verdict == Verdict::NoLeak), "{f:?}");
        assert_eq!(f[0].requests, c[11][1]);
    }

    #[test]
    fn no_leak_anywhere_and_too_few_rounds() {
        let (s, c) = run(12, 0.0);
        let f = assess(&s, &c, |s| s.heap_used, &Thresholds::default()).unwrap();
        assert!(f.iter().all(|e| e.verdict == Verdict::NoLeak), "{f:?}");
        let (s, c) = run(4, 300.0);
        assert!(assess(&s, &c, |s| s.heap_used, &Thresholds::default()).is_none());
    }
}
