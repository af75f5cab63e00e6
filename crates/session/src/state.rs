//! The driving loop's running state: what the rounds have gathered so far. The loop
//! ([`crate::run`]) fills it; [`crate::conclude`] reads it once the loop has ended.

use std::sync::Arc;
use std::time::Duration;

use leakhound_load::{Counters, Engine, StopHandle, Summary};
use leakhound_report::run_schema::RoundOut;
use tokio::time::Instant;

use crate::culprit::Culprit;
use crate::observations::Stop;
use crate::startup::Startup;
use crate::threads::Threads;
use crate::verdict::Sample;

/// The loop's state (one per run).
pub(crate) struct State {
    /// Every node process followed; the main one is the loop's own.
    pub(crate) procs: crate::processes::Processes,
    pub(crate) serving_pid: u32,
    pub(crate) heap_limit: f64,
    pub(crate) samples: Vec<Sample>,
    /// The load engine; out of here (on a blocking thread) while a round runs.
    pub(crate) engine: Option<Engine>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) stop: StopHandle,
    /// The engine's cumulative summary after the last finished round.
    pub(crate) summary: Option<Summary>,
    pub(crate) rounds: Vec<RoundOut>,
    /// Time under load so far (for `-d`).
    pub(crate) load_time: Duration,
    pub(crate) failure: Option<String>,
    pub(crate) died: bool,
    /// Why the rounds ended (a budget, a clear trend, a failed sample).
    pub(crate) stopped_by: Option<Stop>,
    pub(crate) load_started: Option<(Instant, f64, f64)>,
    pub(crate) load_ended: Option<(Instant, f64, f64)>,
    pub(crate) started: Instant,
    pub(crate) culprit: Culprit,
    /// The culprits of the other serving processes, by pid.
    pub(crate) other_culprits: Vec<(u32, Culprit)>,
    /// The serving process's worker threads (see [`crate::threads`]).
    pub(crate) threads: Threads,
    /// The port really used, start-up warnings, and whether the target ran out of memory
    /// before it listened (a failed target, not a leak).
    pub(crate) startup: Startup,
    /// Per-endpoint counts when several endpoints are driven with a varying mix.
    pub(crate) mix: crate::mix::Tally,
    /// Where the snapshot at death goes ([`crate::heap_at_death`]), when armed.
    pub(crate) death: Option<crate::death_probe::Probe>,
    /// Time spent waiting for the target to write its snapshot at death: not the run's budget.
    pub(crate) death_wait: Duration,
    /// What the samples' `requests` count ([`crate::work_axis`]); requests but with `--load-cmd`.
    pub(crate) axis: leakhound_report::run_schema::FitAxis,
}
