//! The shape of growth on the time axis (`--load-cmd` without `leakhound:count`). Seconds are a
//! poor axis for a shape: a CPU-bound fill (each new key costs a millisecond of work) grows at
//! a steady rate in seconds until it stops short, and a loaded machine bends a leak's line in
//! seconds just by slowing the load. So when the target's own HTTP servers count the requests
//! they serve (the preload does), the shape is judged on those requests — where a cache over a
//! bounded key space shows its coupon-collector bend whatever the machine's speed — and told
//! in seconds. Without them it is judged on time: [`crate::shape`]'s tests, then a late slope
//! significantly below the early one, or a saturating curve far better than a line. Pure.

use crate::axis_words::rate;
use crate::shape::{saturating, shape, Shape, MIN_POINTS};
use crate::stats::theil_sen;
use crate::verdict::{Sample, Thresholds};
use leakhound_report::run_schema::FitAxis;

/// Fewest requests the target must have served over the load samples for their count to be
/// the shape's axis (a command that drives no HTTP leaves the counter still or nearly so).
pub const MIN_SERVED: u64 = 2_000;

/// The shape of `value` over the load samples `load` (x in milliseconds), with `served[i]` the
/// requests the target had served by `load[i]` (empty, or `None`s, when it does not count).
/// A plateau's position and a slowing run's rates are in the time axis' units (ms, bytes/ms).
pub fn time_shape(
    load: &[Sample],
    served: &[Option<u64>],
    value: impl Fn(&Sample) -> f64,
    th: &Thresholds,
) -> Shape {
    let by_requests = on_served(load, served);
    let on_time = shape(load, &value, th);
    // A plateau on either axis (on requests, the flat tail's many requests can hide the
    // growth before it from the whole-run slope; on time, the fill's bend is sharp).
    let sh = match &by_requests {
        Some(_) if matches!(on_time, Shape::Plateau { .. }) => on_time,
        Some(s) => shape(s, &value, &per_request(th)),
        None => on_time,
    };
    let (early, late) = halves(load, &value);
    match sh {
        Shape::Plateau { level, grew, .. } => Shape::Plateau {
            level,
            requests: load.last().map_or(0, |s| s.requests),
            grew,
        },
        Shape::Slowing { .. } => Shape::Slowing {
            start_bpr: early,
            end_bpr: late,
        },
        Shape::Steady => {
            let axis = by_requests.as_deref().unwrap_or(load);
            let th = match by_requests {
                Some(_) => per_request(th),
                None => *th,
            };
            match decelerating(axis, &value, &th) {
                true => Shape::Slowing {
                    start_bpr: early,
                    end_bpr: late,
                },
                false => Shape::Steady,
            }
        }
    }
}

/// The load samples with the served requests as their x, when the target counted enough of
/// them at every sample.
fn on_served(load: &[Sample], served: &[Option<u64>]) -> Option<Vec<Sample>> {
    if served.len() != load.len() || load.is_empty() {
        return None;
    }
    let counts: Vec<u64> = served.iter().copied().collect::<Option<_>>()?;
    let rising = counts.windows(2).all(|w| w[1] >= w[0]);
    let span = counts[counts.len() - 1].saturating_sub(counts[0]);
    if !rising || span < MIN_SERVED {
        return None;
    }
    Some(
        load.iter()
            .zip(counts)
            .map(|(s, r)| Sample { requests: r, ..*s })
            .collect(),
    )
}

/// The request axis' thresholds beside the time axis' (`th` holds the time axis' floors, see
/// [`crate::work_axis::thresholds`]): the per-request floors the scenario suite is tuned on.
fn per_request(th: &Thresholds) -> Thresholds {
    let d = Thresholds::default();
    Thresholds {
        min_bpr: d.min_bpr,
        stable_bpr: d.stable_bpr,
        min_requests_per_round: d.min_requests_per_round,
        ..*th
    }
}

/// Growth that decelerates beyond doubt: over at least [`MIN_POINTS`] samples that grew, the
/// slope over the last third is below half the slope over the first half and its 95 % interval
/// lies under the first half's; or a saturating curve leaves a quarter of a line's error and
/// ends at under half the line's slope. A steady leak with noise passes neither.
pub fn decelerating(load: &[Sample], value: impl Fn(&Sample) -> f64, th: &Thresholds) -> bool {
    let n = load.len();
    if n < MIN_POINTS {
        return false;
    }
    let x: Vec<f64> = load.iter().map(|s| s.requests as f64).collect();
    let y: Vec<f64> = load.iter().map(&value).collect();
    let (Some(all), Some(early)) = (theil_sen(&x, &y), theil_sen(&x[..n / 2], &y[..n / 2])) else {
        return false;
    };
    if all.lo <= th.min_bpr || y[n - 1] - y[0] <= th.min_growth {
        return false;
    }
    let k = (n / 3).max(4);
    let late_below = theil_sen(&x[n - k..], &y[n - k..])
        .is_some_and(|late| late.slope < 0.5 * early.slope && late.hi < early.lo);
    let saturates = saturating(&x, &y).is_some_and(|f| f.end_slope < 0.5 * all.slope);
    late_below || saturates
}

/// The slopes (bytes per x unit) over the first half and the last third of the samples: what
/// a slowing run's sentence quotes.
fn halves(load: &[Sample], value: impl Fn(&Sample) -> f64) -> (f64, f64) {
    let n = load.len();
    let slope = |s: &[Sample]| {
        let x: Vec<f64> = s.iter().map(|s| s.requests as f64).collect();
        let y: Vec<f64> = s.iter().map(&value).collect();
        theil_sen(&x, &y).map_or(0.0, |f| f.slope)
    };
    if n < 4 {
        return (0.0, 0.0);
    }
    (slope(&load[..n / 2]), slope(&load[n - (n / 3).max(2)..]))
}

/// Why a run still slowing down is inconclusive, in the axis' units: still filling when the
/// budget ran out (`budget`), or when the load itself ended (a load command that exited): then
/// the advice is a longer load. `start` and `end` are [`Shape::Slowing`]'s rates: the recent
/// samples' on the request and work axes, the first half's and the last third's on time.
pub fn slowing_reason(axis: FitAxis, start: f64, end: f64, budget: bool) -> String {
    let rates = match axis {
        FitAxis::Seconds if end >= 0.9 * start => {
            format!("now {}, ever less for the same load", rate(axis, end))
        }
        FitAxis::Seconds => format!(
            "{} over the first half of the run → {} over the last third",
            rate(axis, start),
            rate(axis, end)
        ),
        _ => format!(
            "{} → {} over the recent samples",
            rate(axis, start),
            rate(axis, end)
        ),
    };
    let next = match (axis, budget) {
        (FitAxis::Requests, _) | (_, true) => {
            "raise --max-duration to see it settle or keep growing"
        }
        _ => "the load ended before it settled: run the load longer (and --max-duration with it) to see it settle or keep growing",
    };
    format!(
        "retained memory still grows, ever more slowly ({rates}): a cache or index filling up, not yet full — {next}"
    )
}

/// The served requests at each of `samples`, read from a process's own samples and counts
/// (matched by time; `None` where it has none).
pub fn served_at(
    samples: &[Sample],
    proc_samples: &[Sample],
    own: &[Option<u64>],
) -> Vec<Option<u64>> {
    samples
        .iter()
        .map(|s| {
            let i = proc_samples.iter().position(|p| p.t_s == s.t_s)?;
            own.get(i).copied().flatten()
        })
        .collect()
}
