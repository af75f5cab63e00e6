//! A run's x axis in words: its rates (`300 B/request`, `3.5 MiB/second`, `96 B/iteration`)
//! and positions (`12,000 requests`, `17.7 s`, `5,000 iterations`). The shapes' and the
//! plateau's sentences are written once for every axis from these, so a `--load-cmd` run
//! judged on time never says "B/request". Pure; the axis' `requests` values are milliseconds on
//! the time axis ([`MS_PER_S`]).

use leakhound_report::run_schema::FitAxis;

use crate::verdict::thousands;

/// Milliseconds per second: the time axis' samples count milliseconds since the run started.
pub const MS_PER_S: f64 = 1000.0;

/// The unit one step of the axis is called.
pub fn unit(axis: FitAxis) -> &'static str {
    match axis {
        FitAxis::Requests => "request",
        FitAxis::Seconds => "second",
        FitAxis::Iterations => "iteration",
        FitAxis::Work => "unit",
    }
}

/// A slope over the axis' raw positions (bytes per ms on the time axis) in its own unit.
pub fn rate(axis: FitAxis, per_x: f64) -> String {
    let b = match axis {
        FitAxis::Seconds => per_x * MS_PER_S,
        _ => per_x,
    };
    per(b, unit(axis))
}

/// `960.2 B/unit`, `5.1 MiB/second`: small rates keep a decimal.
pub fn per(b: f64, unit: &str) -> String {
    if b.abs() < 100.0 {
        format!("{b:.1} B/{unit}")
    } else {
        leakhound_report::format::bytes_per(b, unit)
    }
}

/// A raw position (or span) of the axis: `12,000 requests`, `17.7 s`, `1,200 units of work`.
pub fn position(axis: FitAxis, x: u64) -> String {
    match axis {
        FitAxis::Requests => format!("{} requests", thousands(x)),
        FitAxis::Seconds => format!("{:.1} s", x as f64 / MS_PER_S),
        FitAxis::Iterations => format!("{} iterations", thousands(x)),
        FitAxis::Work => format!("{} units of work", thousands(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_axis_speaks_its_own_unit() {
        assert_eq!(rate(FitAxis::Requests, 300.0), "300 B/request");
        assert!(rate(FitAxis::Seconds, 3.5 * 1048.576).ends_with("MiB/second"));
        assert_eq!(rate(FitAxis::Iterations, 96.25), "96.2 B/iteration");
        assert_eq!(position(FitAxis::Seconds, 17_700), "17.7 s");
        assert_eq!(position(FitAxis::Requests, 158_000), "158,000 requests");
        assert_eq!(position(FitAxis::Work, 1200), "1,200 units of work");
        assert!(!rate(FitAxis::Seconds, 5.0).contains("request"));
    }
}
