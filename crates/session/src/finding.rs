//! The rule that decided a run, with its facts: what [`crate::decide::decide`] found and every
//! later sentence ([`crate::evidence`]) is written from.

use leakhound_schema::endpoint::Driver;

use crate::inconclusive::Why;
use crate::stats::Fit;
use crate::time_driven::TimeFacts;
use crate::verdict::LeakKind;

/// The rule that decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    StartupOom,
    Oom,
    Interrupted,
    Died,
    Failed,
    RequestsFailed,
    Leak(LeakFacts),
    /// Grew under load, gave it back when idle.
    IdleShrink {
        kind: LeakKind,
        first: f64,
        last: f64,
        idle: f64,
    },
    Stable(StableFacts),
    /// Grew while no request was made: a leak driven by time.
    TimeLeak(TimeFacts),
    /// Grew ever more slowly and stopped: a cache or an index filled up.
    Plateau {
        level: f64,
        requests: u64,
        grew: f64,
    },
    /// Still growing, ever more slowly, when the time budget ran out.
    Slowing {
        start_bpr: f64,
        end_bpr: f64,
    },
    /// No whole-run trend, but one endpoint's requests retain memory.
    EndpointLeak,
    Inconclusive(Why),
}

/// The numbers behind a leak.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakFacts {
    pub growth: f64,
    pub requests: f64,
    pub fit: Fit,
    pub mk_p: f64,
    pub rounds: usize,
    pub late_slope: f64,
    /// The series' value after the idle phase.
    pub idle: Option<f64>,
}

/// The numbers behind a flat run.
#[derive(Debug, Clone, PartialEq)]
pub struct StableFacts {
    pub settled: f64,
    pub late_growth: f64,
    pub late: Fit,
    pub growth: f64,
    /// Growth early in the run that stopped (warm-up, a cache filling): shown when material.
    pub early_growth_shown: bool,
    pub external_late_growth: f64,
}

/// When a production heap fills at the leak's rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Requests: at this rate; time: the heap grows whatever the rate.
    pub driver: Driver,
    pub prod_rps: f64,
    pub heap_mb: f64,
    pub seconds: f64,
}
