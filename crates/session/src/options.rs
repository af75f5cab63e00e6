//! What `run` is asked to do ([`RunOptions`]) and what it hands back ([`RunOutcome`]).

use std::sync::Arc;
use std::time::Duration;

use leakhound_load::{Endpoint, Plan, Template};
use leakhound_report::run_schema::RunReport;

use crate::culprit::CulpritOptions;
use crate::verdict::Thresholds;

/// Everything `run` needs to know.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub command: Vec<String>,
    pub heap_mb: u64,
    pub port: Option<u16>,
    /// What to send and how (connections, `-q` rate, timeouts); its target is replaced by
    /// 127.0.0.1 on the child's port.
    pub plan: Plan,
    /// `-n`: the run's total requests, over all rounds.
    pub max_requests: Option<u64>,
    /// `-d`: the run's total time under load, over all rounds.
    pub max_load: Option<Duration>,
    pub warmup: Duration,
    pub round: Duration,
    pub idle: Duration,
    pub max_duration: Duration,
    pub start_timeout: Duration,
    pub prod_rps: Option<f64>,
    pub prod_heap_mb: f64,
    pub verbose: bool,
    pub thresholds: Thresholds,
    /// Allocation sites and heap snapshots (see [`crate::culprit`]).
    pub culprit: CulpritOptions,
    /// Notified to end the run now as if interrupted (the binary's output was closed): the
    /// target is stopped and the outcome is `interrupted`.
    pub cancel: Arc<tokio::sync::Notify>,
    /// `--load-cmd`: the user's own load instead of the engine ([`crate::load_cmd`]).
    pub load_cmd: Option<LoadCmd>,
}

/// A load command run through `sh -c` once the target listens, or (`command: None`, for
/// `--workload`) a target that drives itself and counts its own iterations; sampled every
/// `sample_every`.
#[derive(Debug, Clone)]
pub struct LoadCmd {
    pub command: Option<String>,
    pub sample_every: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            command: Vec::new(),
            heap_mb: 128,
            port: None,
            plan: default_plan(),
            max_requests: None,
            max_load: None,
            warmup: Duration::from_millis(1500),
            round: Duration::from_millis(600),
            idle: Duration::from_millis(2500),
            max_duration: Duration::from_secs(60),
            start_timeout: Duration::from_secs(30),
            prod_rps: None,
            prod_heap_mb: 2048.0,
            verbose: false,
            thresholds: Thresholds::default(),
            culprit: CulpritOptions::default(),
            cancel: Arc::default(),
            load_cmd: None,
        }
    }
}

/// `GET /` over 16 connections: the plan `run` uses when given no load options.
pub fn default_plan() -> Plan {
    let ep = Endpoint::new("default", "GET", "/", &[], Template::literal(Vec::new()))
        .expect("GET / is a valid endpoint");
    let mut plan = Plan::new(leakhound_load::Target::local(0), vec![ep]);
    plan.connections = 16;
    plan
}

/// The finished run: the JSON report and the exit code it implies.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub report: RunReport,
    pub exit_code: i32,
}
