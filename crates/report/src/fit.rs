//! The fitted line the report draws and the slope figures `compare` tests: the run's own
//! decided fit (`RunReport::fit`) when the JSON carries one, so that what is drawn is what was
//! decided (an external leak's line goes over the external series, not the JS heap). Results
//! written before `fit` existed get today's fallback: the JS heap against requests, with the
//! verdict's slope and a robust intercept.
//!
//! The statistics themselves are `leakhound-gctrace`'s one module.

use leakhound_gctrace::stats;
use leakhound_schema::run::{FitAxis, FitOut, SeriesName};

use crate::run_schema::{Phase, RunReport, RunSample};

pub use stats::{median, normal_cdf, ols_slope_se};

/// The samples the verdict's regression uses when the JSON does not say: those taken after
/// load rounds, or, for runs that never reached a load round, everything after the baseline.
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

/// A sample's value in one series, bytes.
pub fn value(s: &RunSample, series: SeriesName) -> f64 {
    (match series {
        SeriesName::HeapUsed => s.heap_used,
        SeriesName::External => s.external,
        SeriesName::Rss => s.rss,
    }) as f64
}

/// A sample's position on a fit's x axis.
pub fn position(s: &RunSample, x: FitAxis) -> f64 {
    match x {
        FitAxis::Requests | FitAxis::Work | FitAxis::Iterations => s.requests as f64,
        FitAxis::Seconds => s.t_s,
    }
}

/// The series' name for people.
pub fn series_label(series: SeriesName) -> &'static str {
    match series {
        SeriesName::HeapUsed => "JS heap",
        SeriesName::External => "external memory",
        SeriesName::Rss => "RSS",
    }
}

/// What one unit of the x axis is, for "bytes per …".
pub fn axis_unit(x: FitAxis) -> &'static str {
    match x {
        FitAxis::Requests => "request",
        FitAxis::Seconds => "second",
        FitAxis::Work => "unit",
        FitAxis::Iterations => "iteration",
    }
}

/// The run's x axis (its fit's; requests for a run without one).
pub fn run_axis(r: &leakhound_schema::run::RunReport) -> FitAxis {
    r.fit.as_ref().map_or(FitAxis::Requests, |f| f.x)
}

/// The label of a chart's x axis, and the word after "against" in its title.
pub fn axis_label(x: FitAxis) -> (&'static str, &'static str) {
    match x {
        FitAxis::Requests => ("requests completed", "requests"),
        FitAxis::Seconds => ("seconds since the start", "time"),
        FitAxis::Work => ("units of work (the load command's count)", "work"),
        FitAxis::Iterations => ("iterations of the workload", "iterations"),
    }
}

/// The line to draw: which series, against what, and the samples it was fitted on.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    pub series: SeriesName,
    pub x: FitAxis,
    pub slope: f64,
    pub intercept: f64,
    /// The slope's 95 % interval, when known.
    pub ci: Option<[f64; 2]>,
    pub r_squared: Option<f64>,
    /// The samples the line was fitted on, in sample order.
    pub samples: Vec<&'a RunSample>,
    /// `true` when this is the run's own fit; `false` for the fallback of older results.
    pub decided: bool,
}

impl Line<'_> {
    /// The line's value, bytes, at a sample.
    pub fn at(&self, s: &RunSample) -> f64 {
        self.intercept + self.slope * position(s, self.x)
    }

    /// The fitted points as (value on the x axis, value of the series), bytes.
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.samples
            .iter()
            .map(|s| (position(s, self.x), value(s, self.series)))
            .collect()
    }
}

/// The samples a decided fit names, skipping indices the JSON got wrong; all load samples
/// when it names none that exist.
fn used<'a>(r: &'a RunReport, f: &FitOut) -> Vec<&'a RunSample> {
    let mut idx: Vec<usize> = f
        .samples_used
        .iter()
        .copied()
        .filter(|&i| i < r.samples.len())
        .collect();
    idx.sort_unstable();
    idx.dedup();
    if idx.is_empty() {
        return fit_samples(r);
    }
    idx.into_iter().map(|i| &r.samples[i]).collect()
}

/// The run's line: its decided fit when present and finite, else the fallback (JS heap against
/// requests, the verdict's slope, the median intercept over the load samples). `None` when no
/// line can be drawn.
pub fn line(r: &RunReport) -> Option<Line<'_>> {
    if let Some(f) = r
        .fit
        .as_ref()
        .filter(|f| f.slope.is_finite() && f.intercept.is_finite())
    {
        let ci = (f.ci_low.is_finite() && f.ci_high.is_finite()).then_some([f.ci_low, f.ci_high]);
        return Some(Line {
            series: f.series,
            x: f.x,
            slope: f.slope,
            intercept: f.intercept,
            ci,
            r_squared: f.r_squared.is_finite().then_some(f.r_squared),
            samples: used(r, f),
            decided: true,
        });
    }
    let slope = r.retained_bytes_per_request;
    if !slope.is_finite() {
        return None;
    }
    let samples = fit_samples(r);
    let pts: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (s.requests as f64, s.heap_used as f64))
        .collect();
    let intercept = stats::intercept_for(&pts, slope)?;
    Some(Line {
        series: SeriesName::HeapUsed,
        x: FitAxis::Requests,
        slope,
        intercept,
        ci: r.retained_bytes_per_request_ci,
        r_squared: r.r_squared,
        samples,
        decided: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: u64, heap: u64, external: u64) -> RunSample {
        RunSample {
            t_s: i as f64 * 2.0,
            requests: i * 1000,
            heap_used: heap,
            external,
            rss: 50_000_000,
            array_buffers: 0,
            phase: if i == 0 { Phase::Baseline } else { Phase::Load },
        }
    }

    #[test]
    fn the_decided_fit_is_drawn_over_its_own_series() {
        let r = RunReport {
            retained_bytes_per_request: 1000.0,
            samples: (0..6)
                .map(|i| sample(i, 5_000_000, 1_000_000 + i * 1_000_000))
                .collect(),
            fit: Some(FitOut {
                series: SeriesName::External,
                x: FitAxis::Requests,
                slope: 1000.0,
                intercept: 1_000_000.0,
                ci_low: 990.0,
                ci_high: 1010.0,
                r_squared: 1.0,
                samples_used: vec![2, 3, 4, 5, 99],
            }),
            ..Default::default()
        };
        let l = line(&r).unwrap();
        assert!(l.decided);
        assert_eq!(l.series, SeriesName::External);
        assert_eq!(l.samples.len(), 4, "the out-of-range index is skipped");
        assert_eq!(l.ci, Some([990.0, 1010.0]));
        // The line passes through the external samples it was fitted on.
        for s in &l.samples {
            assert_eq!(l.at(s), value(s, SeriesName::External));
        }
    }

    #[test]
    fn without_a_fit_the_old_line_is_rebuilt() {
        let r = RunReport {
            retained_bytes_per_request: 2000.0,
            samples: (0..6)
                .map(|i| sample(i, 7_000_000 + i * 2_000_000, 0))
                .collect(),
            ..Default::default()
        };
        let l = line(&r).unwrap();
        assert!(!l.decided);
        assert_eq!(l.series, SeriesName::HeapUsed);
        assert_eq!(l.samples.len(), 5);
        assert_eq!(l.intercept, 7_000_000.0);
    }
}
