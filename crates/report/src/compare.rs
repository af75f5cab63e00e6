//! `leakhound compare BEFORE.json AFTER.json`: did the fix work?
//!
//! The test is a one-sided z-test on the two retained-heap slopes. Each slope's standard
//! error comes from the run's 95 % interval (`(hi − lo) / (2·1.96)`; the Theil–Sen interval
//! is not exactly symmetric, so this is an approximation) or, for a JSON without an interval,
//! from an ordinary least-squares fit over its load samples.

use std::fmt::Write;

use crate::fit;
use crate::format;
use crate::run_schema::{FitAxis, RunReport, SeriesName};
use leakhound_schema::Verdict as RunVerdict;

pub use leakhound_schema::compare::{
    Comparison, Side, Verdict, EXIT_FIX_PROVEN, EXIT_NOT_PROVEN, EXIT_REGRESSION, SCHEMA,
};

/// One-sided significance level for both directions.
pub const ALPHA: f64 = 0.05;

/// One run's figures (a free function: [`Side`] lives in the schema crate). The slope and its
/// interval are the run's decided fit ([`decided`]); without an interval the standard error
/// comes from least squares ([`ols_se`]).
pub fn side_of(r: &RunReport) -> Side {
    let (slope, ci) = decided(r);
    let slope_se = match ci {
        Some([lo, hi]) if hi > lo && (hi - lo).is_finite() => Some((hi - lo) / (2.0 * 1.96)),
        Some([lo, hi]) if hi == lo && lo.is_finite() => ols_se(r).or(Some(0.0)),
        _ => ols_se(r),
    };
    let mut p99: Vec<f64> = r
        .rounds
        .iter()
        .map(|x| x.p99_ms)
        .filter(|v| v.is_finite())
        .collect();
    Side {
        verdict: r.verdict,
        oom: r.oom,
        requests: r.requests,
        retained_bytes_per_request: slope,
        retained_bytes_per_request_ci: ci,
        slope_se,
        gc_time_share: r.gc_time_share,
        allocated_bytes_per_request: r.allocated_bytes_per_request,
        p99_ms: fit::median(&mut p99),
        requests_per_second: r.requests_per_second,
    }
}

/// The slope is significantly above zero (its interval lies above it).
fn significantly_positive(s: &Side) -> bool {
    match (s.retained_bytes_per_request_ci, s.slope_se) {
        (Some([lo, _]), _) => lo > 0.0,
        (None, Some(se)) => s.retained_bytes_per_request > 1.645 * se,
        _ => false,
    }
}

/// The run's decided slope against requests and its 95 % interval (`RunReport::fit`); results
/// without one (written before `fit` existed, or fitted against seconds) give
/// `retained_bytes_per_request` and its interval, as before.
fn decided(r: &RunReport) -> (f64, Option<[f64; 2]>) {
    match fit::line(r).filter(|l| l.decided && l.x == FitAxis::Requests) {
        Some(l) => (l.slope, l.ci),
        None => (
            r.retained_bytes_per_request,
            r.retained_bytes_per_request_ci,
        ),
    }
}

/// The series the decided slope is of, when the run has a decided fit against requests.
fn decided_series(r: &RunReport) -> Option<SeriesName> {
    fit::line(r)
        .filter(|l| l.decided && l.x == FitAxis::Requests)
        .map(|l| l.series)
}

/// The least-squares standard error of the slope over the samples of the run's line (the
/// decided fit's own series and samples, or the JS heap over the load samples).
fn ols_se(r: &RunReport) -> Option<f64> {
    let line = fit::line(r).filter(|l| l.x == FitAxis::Requests)?;
    fit::ols_slope_se(&line.points()).map(|(_, se)| se)
}

pub fn compare(before: &RunReport, after: &RunReport) -> Comparison {
    let b = side_of(before);
    let a = side_of(after);
    let z = match (b.slope_se, a.slope_se) {
        (Some(sb), Some(sa)) => {
            // A floor keeps two perfectly flat runs from dividing by zero.
            let se = (sb * sb + sa * sa).sqrt().max(1e-6);
            Some((b.retained_bytes_per_request - a.retained_bytes_per_request) / se)
        }
        _ => None,
    };
    let p_lower = z.map(|z| 1.0 - fit::normal_cdf(z));
    let p_higher = z.map(fit::normal_cdf);
    let mut reasons = Vec::new();

    let before_leaky = b.verdict == RunVerdict::Leak || significantly_positive(&b);
    let after_clean = a.verdict == RunVerdict::NoLeak && !a.oom;
    let lower = p_lower.is_some_and(|p| p < ALPHA);
    // A regression must be significant AND material (half as much again), so two runs of the
    // same leak that differ by noise are "not proven" rather than a false alarm.
    let higher = p_higher.is_some_and(|p| p < ALPHA)
        && a.retained_bytes_per_request > 1.5 * b.retained_bytes_per_request.max(0.0) + 16.0;

    // An out-of-memory crash is a leak; it is a regression only when before did not leak. Two
    // runs of the same leak can differ in whether the process died before the verdict (the
    // adaptive stop races the heap limit), and that is not a change in the code.
    let verdict = if a.verdict == RunVerdict::Leak && b.verdict != RunVerdict::Leak {
        reasons.push(format!(
            "after is `{}`{} while before was `{}`",
            a.verdict,
            if a.oom { " (out of memory)" } else { "" },
            b.verdict
        ));
        Verdict::Regression
    } else if a.verdict == RunVerdict::Leak && higher {
        reasons.push(format!(
            "after retains significantly more per request ({} vs {}, p = {:.3})",
            format::bytes(a.retained_bytes_per_request),
            format::bytes(b.retained_bytes_per_request),
            p_higher.unwrap_or(f64::NAN)
        ));
        Verdict::Regression
    } else if before_leaky && after_clean && lower {
        reasons.push(format!(
            "before leaked ({} per request), after is no-leak, and its slope is significantly \
             lower (z = {:.2}, {})",
            format::bytes(b.retained_bytes_per_request),
            z.unwrap_or(f64::NAN),
            fmt_p(p_lower.unwrap_or(f64::NAN))
        ));
        Verdict::FixProven
    } else {
        if !before_leaky {
            reasons.push(format!(
                "before did not show a leak (verdict `{}`, slope not significantly positive): \
                 there is nothing to prove fixed",
                b.verdict
            ));
        }
        if !after_clean {
            reasons.push(format!(
                "after is `{}`{}, not no-leak",
                a.verdict,
                if a.oom { " (out of memory)" } else { "" }
            ));
        }
        match p_lower {
            None => reasons
                .push("a slope has no interval and too few samples for a standard error".into()),
            Some(p) if p >= ALPHA => reasons.push(format!(
                "after's slope is not significantly lower (z = {:.2}, {})",
                z.unwrap_or(f64::NAN),
                fmt_p(p)
            )),
            _ => {}
        }
        Verdict::NotProven
    };
    if let (Some(sb), Some(sa)) = (decided_series(before), decided_series(after)) {
        if sb != sa {
            reasons.push(format!(
                "the runs were decided on different series (before: {}, after: {}): their \
                 slopes are compared as they are",
                fit::series_label(sb),
                fit::series_label(sa)
            ));
        }
    }
    Comparison {
        schema: SCHEMA.to_string(),
        verdict,
        before: b,
        after: a,
        method: "one-sided z-test on the retained-heap slopes, standard errors from their 95% \
                 intervals"
            .into(),
        z,
        p_lower,
        p_higher,
        reasons,
        leaks: crate::compare_leaks::match_leaks(before, after),
    }
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        "p < 0.0001".into()
    } else {
        format!("p = {p:.4}")
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "—".into(), f)
}

fn change(b: Option<f64>, a: Option<f64>) -> String {
    match (b, a) {
        (Some(b), Some(a)) if b.abs() > f64::EPSILON => {
            format!("{:+.0}%", (a - b) / b.abs() * 100.0)
        }
        _ => "".into(),
    }
}

/// The side-by-side table and the verdict, for the terminal.
pub fn render_terminal(c: &Comparison) -> String {
    let (b, a) = (&c.before, &c.after);
    let ci = |s: &Side| {
        let mid = format::bytes(s.retained_bytes_per_request);
        match s.retained_bytes_per_request_ci {
            Some([lo, hi]) => format!("{mid} [{} .. {}]", format::bytes(lo), format::bytes(hi)),
            None => mid,
        }
    };
    let rows: Vec<[String; 4]> = vec![
        [
            "verdict".into(),
            format!("{}{}", b.verdict, if b.oom { " (OOM)" } else { "" }),
            format!("{}{}", a.verdict, if a.oom { " (OOM)" } else { "" }),
            String::new(),
        ],
        [
            "retained per request (95% CI)".into(),
            ci(b),
            ci(a),
            change(
                Some(b.retained_bytes_per_request),
                Some(a.retained_bytes_per_request),
            ),
        ],
        [
            "GC share of time".into(),
            opt(b.gc_time_share, format::percent),
            opt(a.gc_time_share, format::percent),
            change(b.gc_time_share, a.gc_time_share),
        ],
        [
            "allocated per request".into(),
            opt(b.allocated_bytes_per_request, format::bytes),
            opt(a.allocated_bytes_per_request, format::bytes),
            change(b.allocated_bytes_per_request, a.allocated_bytes_per_request),
        ],
        [
            "p99 latency".into(),
            opt(b.p99_ms, |v| format!("{v:.2} ms")),
            opt(a.p99_ms, |v| format!("{v:.2} ms")),
            change(b.p99_ms, a.p99_ms),
        ],
        [
            "throughput".into(),
            format!("{:.0} req/s", b.requests_per_second),
            format!("{:.0} req/s", a.requests_per_second),
            change(Some(b.requests_per_second), Some(a.requests_per_second)),
        ],
        [
            "requests".into(),
            format::thousands(b.requests),
            format::thousands(a.requests),
            String::new(),
        ],
    ];
    let mut w = [0usize; 4];
    let head = ["", "before", "after", "change"];
    for r in rows
        .iter()
        .map(|r| r.each_ref().map(|s| s.as_str()))
        .chain([head])
    {
        for (i, cell) in r.iter().enumerate() {
            w[i] = w[i].max(cell.chars().count());
        }
    }
    let mut o = String::new();
    let line = |o: &mut String, r: [&str; 4]| {
        let _ = writeln!(
            o,
            "  {:<w0$}  {:<w1$}  {:<w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        );
    };
    line(&mut o, head);
    for r in &rows {
        line(&mut o, r.each_ref().map(|s| s.as_str()));
    }
    let _ = writeln!(o);
    let _ = match (c.z, c.p_lower) {
        (Some(z), Some(p)) => writeln!(
            o,
            "  slope test: {}: z = {z:.2}, one-sided {} that after is lower",
            c.method,
            fmt_p(p)
        ),
        _ => writeln!(
            o,
            "  slope test: not possible (no interval, too few samples)"
        ),
    };
    let _ = writeln!(o);
    let _ = writeln!(o, "verdict: {}", c.verdict.as_str());
    for r in &c.reasons {
        let _ = writeln!(o, "  - {r}");
    }
    crate::compare_leaks::render_terminal(&c.leaks, &mut o);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(verdict: &str, bpr: f64, ci: [f64; 2]) -> RunReport {
        RunReport {
            schema: crate::run_schema::SCHEMA.into(),
            verdict: verdict.parse().unwrap(),
            retained_bytes_per_request: bpr,
            retained_bytes_per_request_ci: Some(ci),
            requests_per_second: 1000.0,
            ..Default::default()
        }
    }

    #[test]
    fn a_leak_fixed_is_proven() {
        let c = compare(
            &run("leak", 2000.0, [1800.0, 2200.0]),
            &run("no-leak", 3.0, [-20.0, 25.0]),
        );
        assert_eq!(c.verdict, Verdict::FixProven, "{:?}", c.reasons);
        assert_eq!(c.verdict.exit_code(), 0);
        assert!(c.z.unwrap() > 10.0);
    }

    #[test]
    fn the_same_leak_twice_is_not_proven() {
        let c = compare(
            &run("leak", 2000.0, [1800.0, 2200.0]),
            &run("leak", 1950.0, [1750.0, 2150.0]),
        );
        assert_eq!(c.verdict, Verdict::NotProven);
        assert_eq!(c.verdict.exit_code(), 5);
        assert!(c.reasons.iter().any(|r| r.contains("not no-leak")));
    }

    #[test]
    fn the_same_leak_dying_of_oom_once_is_not_a_regression() {
        let mut crashed = run("leak", 2100.0, [1900.0, 2300.0]);
        crashed.oom = true;
        let c = compare(&run("leak", 2000.0, [1800.0, 2200.0]), &crashed);
        assert_eq!(c.verdict, Verdict::NotProven, "{:?}", c.reasons);
        assert!(c.reasons.iter().any(|r| r.contains("out of memory")));
    }

    #[test]
    fn a_new_leak_is_a_regression() {
        let c = compare(
            &run("no-leak", 0.0, [-10.0, 10.0]),
            &run("leak", 500.0, [400.0, 600.0]),
        );
        assert_eq!(c.verdict, Verdict::Regression);
        assert_eq!(c.verdict.exit_code(), 6);
        let worse = compare(
            &run("leak", 200.0, [180.0, 220.0]),
            &run("leak", 2000.0, [1900.0, 2100.0]),
        );
        assert_eq!(worse.verdict, Verdict::Regression);
    }

    #[test]
    fn a_noisy_after_is_not_proven() {
        // After says no-leak but its interval is so wide the drop is not significant.
        let c = compare(
            &run("leak", 100.0, [10.0, 190.0]),
            &run("no-leak", 50.0, [-400.0, 500.0]),
        );
        assert_eq!(c.verdict, Verdict::NotProven);
    }

    #[test]
    fn terminal_rendering_names_every_figure() {
        let c = compare(
            &run("leak", 2000.0, [1800.0, 2200.0]),
            &run("no-leak", 3.0, [-20.0, 25.0]),
        );
        let t = render_terminal(&c);
        for k in [
            "retained per request",
            "GC share",
            "p99",
            "throughput",
            "verdict: fix proven",
        ] {
            assert!(t.contains(k), "{k}\n{t}");
        }
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["schema"], SCHEMA);
        assert_eq!(j["verdict"], "fix-proven");
    }

    #[test]
    fn the_decided_fit_is_what_is_compared() {
        use crate::run_schema::{FitOut, RunSample};
        // The headline figure says a big JS-heap slope, but the run decided on a fit of the
        // external series with a tight interval: compare uses the decided fit.
        let mut before = run("leak", 9000.0, [1.0, 90000.0]);
        before.fit = Some(FitOut {
            series: SeriesName::External,
            x: FitAxis::Requests,
            slope: 2000.0,
            intercept: 0.0,
            ci_low: 1900.0,
            ci_high: 2100.0,
            r_squared: 0.99,
            samples_used: vec![],
        });
        let after = run("no-leak", 3.0, [-20.0, 25.0]);
        let c = compare(&before, &after);
        assert_eq!(c.before.retained_bytes_per_request, 2000.0);
        assert_eq!(
            c.before.retained_bytes_per_request_ci,
            Some([1900.0, 2100.0])
        );
        assert!(!c.reasons.iter().any(|r| r.contains("different series")));
        assert!((c.before.slope_se.unwrap() - 200.0 / 3.92).abs() < 1e-9);
        assert_eq!(c.verdict, Verdict::FixProven, "{:?}", c.reasons);

        // A decided fit without an interval: the standard error comes from least squares over
        // the samples it names, in its own series.
        let mut noci = before.clone();
        noci.samples = (0..8)
            .map(|i| RunSample {
                requests: i * 1000,
                external: 1_000_000 + i * 2_000_000 + if i % 2 == 0 { 5000 } else { 0 },
                heap_used: 5_000_000,
                ..Default::default()
            })
            .collect();
        let f = noci.fit.as_mut().unwrap();
        f.ci_low = f64::NAN;
        f.ci_high = f64::NAN;
        f.samples_used = (1..8).collect();
        let mut heap_after = after.clone();
        heap_after.fit = Some(FitOut {
            series: SeriesName::HeapUsed,
            ..before.fit.clone().unwrap()
        });
        let c = compare(&before, &heap_after);
        assert!(
            c.reasons
                .iter()
                .any(|r| r.contains("(before: external memory, after: JS heap)")),
            "{:?}",
            c.reasons
        );
        let side = side_of(&noci);
        assert_eq!(side.retained_bytes_per_request_ci, None);
        let se = side.slope_se.unwrap();
        assert!(se > 0.0 && se < 5.0, "{se}");
    }
}
