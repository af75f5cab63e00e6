//! Per-endpoint attribution (`endpoints[]` of `leakhound.run/v1`) and what drives a leak.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

/// Retained memory attributed to one endpoint by a multiple regression over rounds whose
/// endpoint mix varies.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct EndpointOut {
    pub name: String,
    pub method: String,
    pub path: String,
    /// Requests sent to this endpoint over the run.
    pub requests: u64,
    pub retained_bytes_per_request: f64,
    /// The 95 % interval of `retained_bytes_per_request`.
    pub ci_low: f64,
    pub ci_high: f64,
    pub verdict: Verdict,
}

/// What makes retained memory grow.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Driver {
    /// Requests (bytes per request).
    #[default]
    Requests,
    /// Time, with or without traffic (bytes per second).
    Time,
    /// New connections (bytes per connection).
    Connections,
    /// Calls of a `--workload` function (bytes per iteration).
    Iterations,
    /// Units of work a `--load-cmd` reported with `leakhound:count N`.
    Work,
}

impl Driver {
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Requests => "requests",
            Driver::Time => "time",
            Driver::Connections => "connections",
            Driver::Iterations => "iterations",
            Driver::Work => "work",
        }
    }
    /// The unit a slope is per (`request`, `second` ...).
    pub fn unit(self) -> &'static str {
        match self {
            Driver::Requests => "request",
            Driver::Time => "second",
            Driver::Connections => "connection",
            Driver::Iterations => "iteration",
            Driver::Work => "unit",
        }
    }
}
