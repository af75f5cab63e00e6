//! `leakhound.compare/v1`: what `leakhound compare --json` prints, the verdict on a fix from
//! two `leakhound.run/v1` results.
//!
//! The producer is `leakhound-report` (`compare::compare`), which re-exports these types under
//! their old paths.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON schema name of [`Comparison`].
pub const SCHEMA: &str = "leakhound.compare/v1";

/// Did the fix work?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "CompareVerdict")]
pub enum Verdict {
    /// BEFORE leaked, AFTER is no-leak and its slope is significantly lower.
    FixProven,
    NotProven,
    /// AFTER leaks where BEFORE did not, or leaks significantly and materially more.
    Regression,
}

/// Exit codes of `compare`; 1-4 are left to `run`'s meanings, 2 is bad input as everywhere.
pub const EXIT_FIX_PROVEN: i32 = 0;
pub const EXIT_NOT_PROVEN: i32 = 5;
pub const EXIT_REGRESSION: i32 = 6;

impl Verdict {
    /// For people (`fix proven`); the JSON spells it `fix-proven`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::FixProven => "fix proven",
            Verdict::NotProven => "not proven",
            Verdict::Regression => "regression",
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::FixProven => EXIT_FIX_PROVEN,
            Verdict::NotProven => EXIT_NOT_PROVEN,
            Verdict::Regression => EXIT_REGRESSION,
        }
    }
}

/// One run's figures, side by side with the other's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Side {
    pub verdict: crate::run::Verdict,
    pub oom: bool,
    pub requests: u64,
    pub retained_bytes_per_request: f64,
    pub retained_bytes_per_request_ci: Option<[f64; 2]>,
    /// Standard error of the slope, bytes per request; `None` when no figure supports one.
    pub slope_se: Option<f64>,
    pub gc_time_share: Option<f64>,
    pub allocated_bytes_per_request: Option<f64>,
    /// Median over load rounds of each round's p99, milliseconds.
    pub p99_ms: Option<f64>,
    pub requests_per_second: f64,
}

/// The `leakhound.compare/v1` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub verdict: Verdict,
    pub before: Side,
    pub after: Side,
    /// `z-test on slopes (SE from 95% intervals)`.
    pub method: String,
    /// (before − after) / √(se_b² + se_a²); positive means the after run retains less.
    pub z: Option<f64>,
    /// One-sided p-value that after's slope is lower than before's.
    pub p_lower: Option<f64>,
    /// One-sided p-value that after's slope is higher than before's.
    pub p_higher: Option<f64>,
    /// Why the verdict came out as it did, one sentence each.
    pub reasons: Vec<String>,
}
