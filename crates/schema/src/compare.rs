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
    /// The two runs' heap suspects matched by signature (`SuspectOut::signature`): each of
    /// BEFORE's is still there or gone, AFTER's others are new. Beside the slope test; the
    /// verdict does not depend on it. Empty when neither run has signed suspects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaks: Vec<LeakMatch>,
}

/// What became of one leak signature between the two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LeakStatus {
    /// The same signature in both runs: the same leak is still there.
    StillThere,
    /// In BEFORE only.
    Gone,
    /// In AFTER only.
    New,
}

impl LeakStatus {
    /// For people: `still there`, `gone`, `new`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakStatus::StillThere => "still there",
            LeakStatus::Gone => "gone",
            LeakStatus::New => "new",
        }
    }
}

/// One leak signature and its suspect in each run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LeakMatch {
    pub signature: String,
    pub status: LeakStatus,
    /// The suspect's title (AFTER's when it is there, else BEFORE's).
    pub title: String,
    /// Its retainer path as a user reads it (same choice of run as `title`).
    pub path: Vec<String>,
    /// Retained bytes of the suspect in BEFORE; `None` when it is new.
    pub before_bytes: Option<u64>,
    /// Retained bytes of the suspect in AFTER; `None` when it is gone.
    pub after_bytes: Option<u64>,
}
