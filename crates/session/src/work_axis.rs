//! Runs whose x axis is not requests (`--load-cmd`): the samples' `requests` field then holds
//! the axis' position (units of work a command reported, or milliseconds since the run started
//! when it reports none), so the request statistics ([`crate::verdict::assess`], the shapes)
//! apply unchanged. This module gives them their thresholds and turns the [`Decision`] and the
//! report into that axis' units. Pure.

use leakhound_report::run_schema::{FitAxis, RunReport, Verdict};
use leakhound_schema::endpoint::Driver;

use crate::axis_words::per;
use crate::decide::{Decision, Finding, Projection};
use crate::observations::Observations;
use crate::time_driven::MIN_BPS;
use crate::verdict::{thousands, time_to_fill_s, Thresholds, MIB};

/// Milliseconds per second: the time axis is counted in ms so the integer `requests` field is
/// fine-grained enough.
pub const MS: f64 = crate::axis_words::MS_PER_S;

/// The thresholds for an axis: per unit of work as per request; per millisecond scaled from
/// the time-driven rule's floor ([`MIN_BPS`]).
pub fn thresholds(th: &Thresholds, axis: FitAxis) -> Thresholds {
    match axis {
        FitAxis::Seconds => Thresholds {
            min_bpr: MIN_BPS / MS,
            stable_bpr: 1.6 * MIN_BPS / MS,
            // A sample every second or two is hundreds of "units": never blame their count.
            min_requests_per_round: 0.0,
            // Time passes whatever the target does: the idle-rate rule guards the span.
            min_stable_span: 0.0,
            ..*th
        },
        // A unit of work or an iteration may be far bigger than a request: no floor known.
        _ => Thresholds {
            min_stable_span: 0.0,
            ..*th
        },
    }
}

/// The decision in the axis' units: the driver, bytes per unit, the fit per second, and a
/// projection only where a rate makes sense (time).
pub fn apply(d: &mut Decision, obs: &Observations) {
    let driver = match obs.axis {
        FitAxis::Requests => return,
        FitAxis::Seconds => Driver::Time,
        FitAxis::Work => Driver::Work,
        FitAxis::Iterations => Driver::Iterations,
    };
    let scale = if obs.axis == FitAxis::Seconds {
        MS
    } else {
        1.0
    };
    if let Some(f) = d.fit.as_mut() {
        f.x = obs.axis;
        f.slope *= scale;
        f.ci_low *= scale;
        f.ci_high *= scale;
    }
    // Growth while idle keeps its own driver (time) and rate; the rest is per unit of the axis.
    if !matches!(d.finding, Finding::TimeLeak(_)) {
        d.driver = driver;
        d.bytes_per_unit = d.retained_bytes_per_request * scale;
    }
    d.retained_bytes_per_request = 0.0;
    d.allocation = None;
    d.pressure = false;
    d.projection = None;
    if d.verdict == Verdict::Leak && d.driver == Driver::Time {
        let used = obs.load_samples().first().map_or(0.0, |s| s.heap_used);
        d.projection =
            time_to_fill_s(obs.prod_heap_mb * MIB, used, d.bytes_per_unit, 1.0).map(|seconds| {
                Projection {
                    driver: Driver::Time,
                    prod_rps: 1.0,
                    heap_mb: obs.prod_heap_mb,
                    seconds,
                }
            });
    }
}

/// The report in the axis' words: the sentences that count requests are replaced by one over
/// the axis, and the request figures (there were none of leakhound's) are zero.
pub fn words(r: &mut RunReport, d: &Decision, obs: &Observations) {
    if obs.axis == FitAxis::Requests {
        return;
    }
    r.requests = 0;
    r.requests_per_second = 0.0;
    r.retained_bytes_per_request_ci = None;
    let Some(f) = &d.fit else { return };
    if matches!(d.finding, Finding::TimeLeak(_)) {
        return;
    }
    let load = obs.load_samples();
    let (Some(first), Some(last)) = (load.first(), load.last()) else {
        return;
    };
    let span = last.requests.saturating_sub(first.requests);
    let (unit, over) = match obs.axis {
        FitAxis::Seconds => ("second", format!("{:.1} s", span as f64 / MS)),
        FitAxis::Iterations => ("iteration", format!("{} iterations", thousands(span))),
        _ => ("unit", format!("{} units of work", thousands(span))),
    };
    let by = match obs.axis {
        FitAxis::Iterations => "the workload",
        _ => "the load command",
    };
    let what = match f.series {
        leakhound_report::run_schema::SeriesName::External => "external memory",
        _ => "retained JS heap",
    };
    let sentence = format!(
        "{what} over {over} of {by}: {} (95% CI {} – {}, R²={:.2}, {} samples)",
        per(f.slope, unit),
        per(f.ci_low, unit),
        per(f.ci_high, unit),
        f.r_squared,
        load.len()
    );
    r.evidence.retain(|e| !e.contains("request"));
    // A filled cache or index: the whole run's slope is the filling, not a rate that goes
    // on, so it follows the sentence that says it settled rather than leading the evidence.
    if matches!(d.finding, Finding::Plateau { .. }) {
        r.evidence.push(format!("while it filled, {sentence}"));
    } else {
        r.evidence.insert(0, sentence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_axis_floor_is_the_time_driven_floor_per_millisecond() {
        let th = thresholds(&Thresholds::default(), FitAxis::Seconds);
        assert!((th.min_bpr * MS - MIN_BPS).abs() < 1e-9);
        assert!(th.stable_bpr > th.min_bpr);
        let w = thresholds(&Thresholds::default(), FitAxis::Work);
        assert_eq!(w.min_bpr, Thresholds::default().min_bpr);
    }
}
