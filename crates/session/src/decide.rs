//! The decision of a run, as one pure function: [`decide`] turns [`Observations`] into a
//! [`Decision`]. Nothing here reads a process, a socket or a clock, so every rule is unit-tested
//! on hand-made series (`decide_tests.rs`); the words ([`crate::evidence`]) and the JSON
//! ([`crate::report`]) are built from the `Decision` afterwards.
//!
//! The rules, first match wins:
//! 1. out of memory before anything was measured: the heap is too small to start (target-failed);
//! 2. out of memory under load: a leak (the JS heap);
//! 3. interrupted, target died, target failed otherwise: no verdict, statistics kept;
//! 4. most requests failed (more than [`Thresholds::max_failed_share`]): no verdict;
//! 5. a series leaks ([`crate::verdict::assess`]) unless the idle phase gave most of it back
//!    (an expiring cache); 6. both series are stable: no leak; 7. otherwise inconclusive, with
//!    the reason (too few rounds, too few requests, noise) and what to change.
//!
//! Allocation pressure ([`crate::pressure`]) is judged on a run without a leak; a few failed
//! requests leave the verdict standing with a warning.

use leakhound_report::run_schema::{FitAxis, FitOut, SeriesName, Verdict};
use leakhound_schema::endpoint::Driver;

use crate::endpoints::EndpointFinding;
use crate::exit_code;
use crate::failed_requests::{self, Failures};
pub use crate::finding::{Finding, LeakFacts, Projection, StableFacts};
use crate::inconclusive::Why;
use crate::observations::Observations;
use crate::pressure::{self, Allocation};
use crate::shape::{shape, Shape};
use crate::stats::{mann_kendall_p_up, theil_sen, Fit};
use crate::time_driven::time_leak;
use crate::time_shape::{slowing_reason, time_shape};
use crate::verdict::{
    assess, shrank_when_idle, thousands, time_to_fill_s, Assessment, LeakKind, Sample, Thresholds,
    MIB,
};

/// What the run decided, with the numbers every later sentence and chart is drawn from.
#[derive(Debug, Clone)]
pub struct Decision {
    pub verdict: Verdict,
    /// The leaking memory (`None` unless the verdict is a leak).
    pub kind: LeakKind,
    pub exit_code: i32,
    /// Why there is no verdict, or why it is inconclusive (what to change), in one sentence.
    pub reason: Option<String>,
    pub warnings: Vec<String>,
    /// The rule that decided, with its facts.
    pub finding: Finding,
    /// The fit the statistics come from, over the load-phase samples.
    pub fit: Option<FitOut>,
    pub mann_kendall_p: Option<f64>,
    /// Retained bytes per request: the leak's slope, the flat run's (≥ 0), or the slope reached
    /// so far when the run ended early; 0 for an expiring cache and an inconclusive run.
    pub retained_bytes_per_request: f64,
    /// Allocation and GC during load, when measured.
    pub allocation: Option<Allocation>,
    /// Set when the allocation is pressure (only on a run without a leak).
    pub pressure: bool,
    pub projection: Option<Projection>,
    /// The requests' failures, when any failed.
    pub failures: Option<Failures>,
    /// Per-endpoint attribution, leaks first (several endpoints driven with a varying mix).
    pub endpoints: Vec<EndpointFinding>,
    /// What drives the growth: requests, or time (growth while idle).
    pub driver: Driver,
    /// Retained bytes per unit of `driver` (per request, or per second).
    pub bytes_per_unit: f64,
    /// The shape of the retained series over the load rounds.
    pub shape: Shape,
}

/// Judge a run. Pure: the same observations give the same decision.
pub fn decide(obs: &Observations, th: &Thresholds) -> Decision {
    let load = obs.load_samples();
    let a = assess(&load, th);
    let failures = failed_requests::failures(&obs.responses);
    let mut d = Decision {
        verdict: Verdict::Inconclusive,
        kind: LeakKind::None,
        exit_code: exit_code::INCONCLUSIVE,
        reason: None,
        warnings: Vec::new(),
        finding: Finding::Failed,
        fit: None,
        mann_kendall_p: None,
        retained_bytes_per_request: 0.0,
        allocation: None,
        pressure: false,
        projection: None,
        failures: failures.clone(),
        endpoints: Vec::new(),
        driver: Driver::Requests,
        bytes_per_unit: 0.0,
        shape: Shape::Steady,
    };
    let most_failed = failures
        .as_ref()
        .is_some_and(|f| f.most(th.max_failed_share));
    let expect = obs.responses.expect.to_string();

    // Runs that end without a verdict keep the statistics reached so far.
    let no_verdict = |d: &mut Decision, v: Verdict, finding: Finding, reason: String| {
        d.verdict = v;
        d.finding = finding;
        d.reason = Some(reason);
        so_far(d, obs, &load, &a);
    };
    if obs.oom && obs.startup_oom {
        let limit = if obs.heap_limit > 0.0 {
            format!(" (V8 heap limit {:.0} MiB)", obs.heap_limit / MIB)
        } else {
            String::new()
        };
        no_verdict(
            &mut d,
            Verdict::TargetFailed,
            Finding::StartupOom,
            obs.startup_oom_reason.clone().unwrap_or_else(|| {
                format!(
                    "ran out of memory while starting with a {} MiB heap{limit}: raise --heap-mb",
                    obs.heap_mb
                )
            }),
        );
    } else if obs.oom {
        d.verdict = Verdict::Leak;
        d.kind = LeakKind::JsHeap;
        d.finding = Finding::Oom;
        if let Some(f) = a.heap.fit {
            d.retained_bytes_per_request = f.slope.max(0.0);
            d.fit = Some(fit_out(SeriesName::HeapUsed, f, obs));
            d.mann_kendall_p = Some(a.heap.mk_p);
        } else {
            so_far(&mut d, obs, &load, &a);
        }
    } else if obs.interrupted {
        let reason = format!(
            "interrupted before a verdict, after {} rounds of load",
            load.len()
        );
        no_verdict(&mut d, Verdict::Interrupted, Finding::Interrupted, reason);
    } else if obs.died {
        let reason = "the target exited under load without an out-of-memory error".to_string();
        no_verdict(&mut d, Verdict::TargetFailed, Finding::Died, reason);
    } else if let Some(f) = &obs.failure {
        no_verdict(&mut d, Verdict::TargetFailed, Finding::Failed, f.clone());
    } else if let (true, Some(f)) = (most_failed, &failures) {
        let reason = f.sentence(&expect);
        no_verdict(
            &mut d,
            Verdict::TargetFailed,
            Finding::RequestsFailed,
            reason,
        );
    } else {
        judge_trend(&mut d, obs, &load, &a, th);
    }
    d.exit_code = exit_code::of(d.verdict);
    if let (false, Some(f)) = (most_failed, &failures) {
        d.warnings.push(format!(
            "{} of {} requests failed ({}; expected {expect}): the verdict stands on the rest — {}",
            thousands(f.failed),
            thousands(f.total),
            f.breakdown,
            f.hint()
        ));
    }
    d.allocation = obs
        .load
        .as_ref()
        .and_then(|w| pressure::allocation(w, obs.requests));
    d.pressure = d.verdict == Verdict::NoLeak
        && d.allocation
            .is_some_and(|al| pressure::is_pressure(&al, th));
    d.bytes_per_unit = match d.finding {
        Finding::TimeLeak(f) => f.rate.slope,
        _ => d.retained_bytes_per_request,
    };
    if d.verdict == Verdict::Leak && d.bytes_per_unit > 0.0 {
        let (prod_rps, per_second) = match d.driver {
            Driver::Time => (1.0, d.bytes_per_unit),
            _ => (
                obs.prod_rps.unwrap_or(obs.rps),
                d.retained_bytes_per_request,
            ),
        };
        let used = load.first().map_or(0.0, |s| s.heap_used);
        d.projection =
            time_to_fill_s(obs.prod_heap_mb * MIB, used, per_second, prod_rps).map(|seconds| {
                Projection {
                    driver: d.driver,
                    prod_rps,
                    heap_mb: obs.prod_heap_mb,
                    seconds,
                }
            });
    }
    d
}

/// Leak, expiring cache, flat, or inconclusive: rules 5–7.
fn judge_trend(
    d: &mut Decision,
    obs: &Observations,
    load: &[Sample],
    a: &Assessment,
    th: &Thresholds,
) {
    let mut leak = a.leak();
    // On time, the shape is judged on the requests the target served when it counts them.
    d.shape = match obs.axis {
        FitAxis::Seconds => time_shape(load, &obs.load_served(), value(leak), th),
        _ => shape(load, value(leak), th),
    };
    let counts = obs.load_endpoint_counts();
    if !counts.is_empty() {
        d.endpoints = crate::endpoints::assess(load, &counts, value(leak), th).unwrap_or_default();
    }
    // With a varying endpoint mix the total bends by construction (rounds that favour the
    // leaking route grow faster): a bend is no sign of a cache filling when a route leaks.
    if d.endpoints.iter().any(|e| e.verdict == Verdict::Leak) {
        d.shape = Shape::Steady;
    }
    // Growth while idle names time as the driver, whatever the requests say.
    let time = time_leak(&obs.samples, |x| x.heap_used, th)
        .map(|f| (LeakKind::JsHeap, f))
        .or_else(|| time_leak(&obs.samples, |x| x.external, th).map(|f| (LeakKind::External, f)));
    if let Some((kind, f)) = time {
        let s = a.series(Some(kind));
        d.fit = s.fit.map(|fit| fit_out(series_of(Some(kind)), fit, obs));
        d.mann_kendall_p = Some(f.mk_p);
        d.verdict = Verdict::Leak;
        d.kind = kind;
        d.driver = Driver::Time;
        d.retained_bytes_per_request = s.fit.map_or(0.0, |fit| fit.slope.max(0.0));
        d.finding = Finding::TimeLeak(f);
        return;
    }
    match d.shape {
        Shape::Plateau {
            level,
            requests,
            grew,
        } => {
            d.fit = a.heap.fit.map(|f| fit_out(SeriesName::HeapUsed, f, obs));
            d.mann_kendall_p = Some(a.heap.mk_p);
            d.verdict = Verdict::NoLeak;
            d.finding = Finding::Plateau {
                level,
                requests,
                grew,
            };
            return;
        }
        // Still slowing: not a leak yet (the loop keeps sampling while it can), unless it has
        // already filled most of the heap: it runs out before it could settle.
        Shape::Slowing { .. } if !crate::shape::fills_heap(load, obs.heap_limit, obs.heap_mb) => {
            leak = None
        }
        Shape::Slowing { .. } => {}
        Shape::Steady => {}
    }
    let s = a.series(leak);
    d.fit = s.fit.map(|f| fit_out(series_of(leak), f, obs));
    d.mann_kendall_p = Some(s.mk_p);
    let idle = obs.idle_sample();
    if let (Some(k), Some(f), Some(first), Some(last)) = (leak, s.fit, load.first(), load.last()) {
        let val = |x: &Sample| match k {
            LeakKind::External => x.external,
            LeakKind::Rss => x.rss,
            LeakKind::JsHeap | LeakKind::None => x.heap_used,
        };
        match idle {
            Some(i) if shrank_when_idle(val(first), val(last), val(i)) => {
                d.verdict = Verdict::NoLeak;
                d.finding = Finding::IdleShrink {
                    kind: k,
                    first: val(first),
                    last: val(last),
                    idle: val(i),
                };
            }
            _ => {
                d.verdict = Verdict::Leak;
                d.kind = k;
                d.retained_bytes_per_request = f.slope;
                d.finding = Finding::Leak(LeakFacts {
                    growth: s.growth,
                    requests: s.requests,
                    fit: f,
                    mk_p: s.mk_p,
                    rounds: load.len(),
                    late_slope: s.late.map_or(0.0, |l| l.slope),
                    idle: idle.map(val),
                });
            }
        }
    } else if let (true, Some(fit)) = (a.stable(), a.heap.fit) {
        d.verdict = Verdict::NoLeak;
        d.retained_bytes_per_request = fit.slope.max(0.0);
        d.finding = Finding::Stable(StableFacts {
            settled: load.last().map_or(0.0, |s| s.heap_used),
            late_growth: a.heap.late_growth,
            late: a.heap.late.unwrap_or(fit),
            growth: a.heap.growth,
            early_growth_shown: a.heap.growth > th.min_growth,
            external_late_growth: a.external.late_growth,
        });
    } else if let Shape::Slowing { start_bpr, end_bpr } = d.shape {
        d.finding = Finding::Slowing { start_bpr, end_bpr };
        let budget = obs.stopped_by.is_some();
        d.reason = Some(slowing_reason(obs.axis, start_bpr, end_bpr, budget));
    } else {
        let why = Why::of(obs, load, s, th);
        d.reason = Some(why.sentence(obs));
        d.finding = Finding::Inconclusive(why);
    }
    // One endpoint retaining memory makes the run a leak even when the mix hides it overall.
    let endpoint_leak = d.endpoints.iter().any(|e| e.verdict == Verdict::Leak);
    if endpoint_leak && matches!(d.finding, Finding::Stable(_) | Finding::Inconclusive(_)) {
        d.verdict = Verdict::Leak;
        d.kind = leak.unwrap_or(LeakKind::JsHeap);
        d.reason = None;
        d.finding = Finding::EndpointLeak;
        d.retained_bytes_per_request = s.fit.map_or(0.0, |f| f.slope.max(0.0));
    }
}

/// The memory series of a leak kind (the heap when there is none).
fn value(kind: Option<LeakKind>) -> fn(&Sample) -> f64 {
    match kind {
        Some(LeakKind::External) => |x| x.external,
        _ => |x| x.heap_used,
    }
}

fn series_of(kind: Option<LeakKind>) -> SeriesName {
    match kind {
        Some(LeakKind::External) => SeriesName::External,
        _ => SeriesName::HeapUsed,
    }
}

/// A run that ended early: the fit over the load samples so far (even fewer than a verdict
/// needs), and the retained bytes per request it gives.
fn so_far(d: &mut Decision, obs: &Observations, load: &[Sample], a: &Assessment) {
    let (series, fit, p) = match (a.leak(), a.heap.fit) {
        (Some(LeakKind::External), _) => (SeriesName::External, a.external.fit, a.external.mk_p),
        (_, Some(f)) => (SeriesName::HeapUsed, Some(f), a.heap.mk_p),
        (_, None) => {
            let x: Vec<f64> = load.iter().map(|s| s.requests as f64).collect();
            let y: Vec<f64> = load.iter().map(|s| s.heap_used).collect();
            let p = (y.len() >= 3).then(|| mann_kendall_p_up(&y));
            (SeriesName::HeapUsed, theil_sen(&x, &y), p.unwrap_or(1.0))
        }
    };
    if let Some(f) = fit {
        d.retained_bytes_per_request = f.slope.max(0.0);
        d.fit = Some(fit_out(series, f, obs));
        d.mann_kendall_p = (load.len() >= 3).then_some(p);
    }
}

/// The schema's fit over the load-phase samples.
fn fit_out(series: SeriesName, f: Fit, obs: &Observations) -> FitOut {
    FitOut {
        series,
        x: FitAxis::Requests,
        slope: f.slope,
        intercept: f.intercept,
        ci_low: f.lo,
        ci_high: f.hi,
        r_squared: f.r2,
        samples_used: obs.load_indices(),
    }
}

#[cfg(test)]
#[path = "decide_jump_tests.rs"]
mod jump_tests;
#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
#[cfg(test)]
#[path = "decide_time_tests.rs"]
mod time_tests;
