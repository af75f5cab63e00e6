//! The verdict of a watch: the post-GC heap regressed on time.
//!
//! A process leakhound did not start is driven by its own traffic, which leakhound cannot
//! count, so the x axis is time (bytes per second, shown per hour), not requests. The slope
//! is Theil–Sen with Sen's 95 % interval and the trend test one-sided Mann–Kendall, from
//! `gctrace::stats` (the same statistics as `run` and `gc`). Pure: the same figures give the
//! same verdict, and the live metrics show the verdict so far.

use leakhound_gctrace::stats;
use leakhound_schema::attach::AttachReport;
use leakhound_schema::Verdict;

/// Fewer post-GC points than this decide nothing (Mann–Kendall on 5 rising points reaches
/// p ≈ 0.01, the significance used here).
pub const MIN_POINTS: usize = 5;
/// Significance of the one-sided Mann–Kendall test.
pub const ALPHA: f64 = 0.01;
/// Growth over the watch below this is no leak whatever the test says: a warm-up (JIT code,
/// caches filling) moves the heap by a few hundred KiB.
pub const MIN_GROWTH_BYTES: f64 = 1024.0 * 1024.0;
/// ... nor below this share of the starting floor (a 1.5 GB heap wanders by megabytes).
pub const MIN_GROWTH_SHARE: f64 = 0.01;

const MIB: f64 = 1024.0 * 1024.0;

/// Fill the fit, the time to OOM, the GC share, the verdict and its reason from
/// `r.floor`, `r.heap_limit_bytes`, `r.gc` and `r.watched_s`. An `interrupted` verdict is
/// kept (the figures are still filled).
pub fn analyse(r: &mut AttachReport) {
    let xs: Vec<f64> = r.floor.iter().map(|p| p.t_s).collect();
    let ys: Vec<f64> = r.floor.iter().map(|p| p.heap_used).collect();
    let sen = (xs.len() >= 3)
        .then(|| stats::theil_sen_interval(&xs, &ys))
        .flatten();
    r.slope_bytes_per_second = sen.map(|f| f.slope);
    r.slope_ci_bytes_per_second = sen.map(|f| [f.lo, f.hi]);
    r.bytes_per_hour = sen.map(|f| f.slope * 3600.0);
    r.ci_bytes_per_hour = sen.map(|f| [f.lo * 3600.0, f.hi * 3600.0]);
    r.r_squared = sen.map(|f| f.r2);
    r.mann_kendall_p = (ys.len() >= 3).then(|| stats::mann_kendall_p_up(&ys));
    let last = ys.last().copied();
    r.time_to_oom_s = match (sen, r.heap_limit_bytes, last) {
        (Some(f), Some(limit), Some(last)) if f.slope > 0.0 && limit > last => {
            Some((limit - last) / f.slope)
        }
        _ => None,
    };
    r.gc.share = (r.watched_s > 0.0).then(|| (r.gc.pause_s / r.watched_s).clamp(0.0, 1.0));
    let (verdict, reason) = decide(r, sen.map(|f| (f.slope, f.lo)));
    if r.verdict != Verdict::Interrupted {
        r.verdict = verdict;
        r.reason = reason;
    }
}

fn decide(r: &AttachReport, fit: Option<(f64, f64)>) -> (Verdict, String) {
    let n = r.floor.len();
    let what = match r.method {
        leakhound_schema::attach::AttachMethod::ForcedGc => "samples after a forced GC",
        leakhound_schema::attach::AttachMethod::GcObserver => "major GCs",
    };
    let Some((slope, lo)) = fit.filter(|_| n >= MIN_POINTS) else {
        let hint = match r.method {
            leakhound_schema::attach::AttachMethod::ForcedGc => {
                "watch longer (-d) or sample more often (--sample-every)"
            }
            leakhound_schema::attach::AttachMethod::GcObserver => {
                "the process did few full GCs by itself: watch longer (-d) or use --force-gc"
            }
        };
        return (
            Verdict::Inconclusive,
            format!(
                "only {n} {what} over {:.0} s, {MIN_POINTS} needed: {hint}",
                r.watched_s
            ),
        );
    };
    let (t0, t1) = (r.floor[0].t_s, r.floor[n - 1].t_s);
    let span = (t1 - t0).max(0.0);
    let growth = slope * span;
    let material = MIN_GROWTH_BYTES.max(MIN_GROWTH_SHARE * r.floor[0].heap_used);
    let p = r.mann_kendall_p.unwrap_or(1.0);
    let rate = format!(
        "{:.1} MiB/hour [95% CI {:.1}, {:.1}]",
        slope * 3600.0 / MIB,
        lo * 3600.0 / MIB,
        r.slope_ci_bytes_per_second.map_or(f64::NAN, |c| c[1]) * 3600.0 / MIB
    );
    let figures = format!(
        "the post-GC heap moved {:+.1} MiB in {:.0} s ({n} {what}): {rate}, Mann–Kendall p {}",
        growth / MIB,
        span,
        format_p(p)
    );
    if p < ALPHA && lo > 0.0 && growth >= material {
        (Verdict::Leak, figures)
    } else if growth < material {
        (
            Verdict::NoLeak,
            format!(
                "{figures}; less than the {:.1} MiB a leak must add over the watch",
                material / MIB
            ),
        )
    } else {
        (
            Verdict::Inconclusive,
            format!("{figures}; rising, but not significantly (p ≥ {ALPHA}): watch longer (-d)"),
        )
    }
}

/// A p-value for people, with its relation: `< 0.0001` rather than `= 1.2e-9`.
pub fn format_p(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("= {p:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_schema::attach::{AttachMethod, FloorPoint};

    fn report(points: &[(f64, f64)]) -> AttachReport {
        AttachReport {
            method: AttachMethod::ForcedGc,
            watched_s: points.last().map_or(0.0, |p| p.0),
            heap_limit_bytes: Some(4096.0 * MIB),
            floor: points
                .iter()
                .map(|&(t_s, heap_used)| FloorPoint { t_s, heap_used })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_steady_rise_is_a_leak_with_its_rate_and_time_to_oom() {
        // 1 MiB/s with a little noise, 7 samples over 30 s.
        let pts: Vec<(f64, f64)> = (0..7)
            .map(|k| {
                let t = 5.0 * k as f64;
                let noise = if k % 2 == 0 { 50_000.0 } else { -50_000.0 };
                (t, 20.0 * MIB + t * MIB + noise)
            })
            .collect();
        let mut r = report(&pts);
        analyse(&mut r);
        assert_eq!(r.verdict, Verdict::Leak, "{}", r.reason);
        let per_hour = r.bytes_per_hour.unwrap() / MIB;
        assert!((per_hour - 3600.0).abs() < 200.0, "{per_hour}");
        let [lo, hi] = r.ci_bytes_per_hour.unwrap();
        assert!(lo > 0.0 && lo <= hi);
        assert!(r.mann_kendall_p.unwrap() < ALPHA);
        // (4096 - 50) MiB left at 1 MiB/s.
        let tto = r.time_to_oom_s.unwrap();
        assert!((tto - 4046.0).abs() < 100.0, "{tto}");
        assert!(r.reason.contains("MiB/hour"), "{}", r.reason);
    }

    #[test]
    fn a_flat_heap_is_no_leak_and_few_points_decide_nothing() {
        let pts: Vec<(f64, f64)> = (0..7)
            .map(|k| (5.0 * k as f64, 20.0 * MIB + (k % 3) as f64 * 40_000.0))
            .collect();
        let mut r = report(&pts);
        analyse(&mut r);
        assert_eq!(r.verdict, Verdict::NoLeak, "{}", r.reason);
        assert!(r.reason.contains("less than the 1.0 MiB"), "{}", r.reason);

        let mut few = report(&pts[..3]);
        analyse(&mut few);
        assert_eq!(few.verdict, Verdict::Inconclusive);
        assert!(few.reason.contains("only 3"), "{}", few.reason);
    }

    #[test]
    fn a_small_significant_rise_is_no_leak_and_a_noisy_big_one_inconclusive() {
        // +10 KiB per sample: significant, but 60 KiB in all.
        let small: Vec<(f64, f64)> = (0..7)
            .map(|k| (5.0 * k as f64, 20.0 * MIB + k as f64 * 10240.0))
            .collect();
        let mut r = report(&small);
        analyse(&mut r);
        assert_eq!(r.verdict, Verdict::NoLeak, "{}", r.reason);
        // A big rise with big swings: not significant.
        let ys = [20.0, 60.0, 15.0, 70.0, 18.0, 75.0, 40.0];
        let noisy: Vec<(f64, f64)> = ys
            .iter()
            .enumerate()
            .map(|(k, y)| (5.0 * k as f64, y * MIB))
            .collect();
        let mut r = report(&noisy);
        analyse(&mut r);
        assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.reason);
    }

    #[test]
    fn an_interrupted_watch_keeps_its_verdict() {
        let pts: Vec<(f64, f64)> = (0..7).map(|k| (k as f64, k as f64 * 10.0 * MIB)).collect();
        let mut r = report(&pts);
        r.verdict = Verdict::Interrupted;
        analyse(&mut r);
        assert_eq!(r.verdict, Verdict::Interrupted);
        assert!(r.bytes_per_hour.is_some());
    }
}
