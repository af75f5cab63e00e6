//! What a run saw, as plain data: the input of [`crate::decide::decide`]. Gathering it touches
//! processes ([`crate::conclude`]); judging it does not, so the decision can be tested on
//! hand-made series.

use std::collections::BTreeMap;
use std::time::Duration;

use leakhound_load::StatusSet;

use crate::endpoints::EndpointId;
use crate::verdict::{Phase, Sample};

/// Why the load rounds ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `--max-duration` left no room for another round and the idle phase.
    MaxDuration,
    /// `-n` was used up.
    RequestBudget,
    /// `-d` was used up.
    LoadBudget,
    /// Two rounds in a row saw a leak (or the heap neared its limit).
    Leak,
    /// The late rounds were flat.
    Stable,
    /// A sample could not be taken (the target died or stopped answering).
    SampleFailed,
}

/// The answers to the load: statuses and transport errors over every round (warm-up included).
#[derive(Debug, Clone, Default)]
pub struct Responses {
    /// Responses per HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests that got no status, per kind (`refused`, `reset`, `timeout` ...).
    pub transport: BTreeMap<String, u64>,
    /// The statuses that count as answers (`--expect-status`, default 2xx/3xx).
    pub expect: StatusSet,
    /// Requests abandoned on purpose (`--abort`): they have no status, and they are neither
    /// failures nor part of [`Responses::total`], so they cannot tip the failure share.
    pub aborted: u64,
}

impl Responses {
    /// Requests that got an answer or a transport error (aborted ones excluded).
    pub fn total(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.transport_errors()
    }

    pub fn transport_errors(&self) -> u64 {
        self.transport.values().sum()
    }

    /// Responses with a status outside `expect`.
    pub fn unexpected_statuses(&self) -> u64 {
        self.by_status
            .iter()
            .filter(|(c, _)| !self.expect.contains(**c))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests that failed: an unexpected status or no status at all.
    pub fn failed(&self) -> u64 {
        self.unexpected_statuses() + self.transport_errors()
    }
}

/// Allocation and GC during the load phase (from the start of warm-up to the last round).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadWindow {
    pub seconds: f64,
    /// Bytes the app allocated (from the GC trace: growth between collections).
    pub allocated_bytes: f64,
    /// Main-thread pause of the app's own collections (leakhound's forced ones excluded).
    pub gc_pause_ms: f64,
}

/// What the OOM evidence quotes: V8's fatal line and the last GC lines.
#[derive(Debug, Clone, Default)]
pub struct OomDetail {
    pub v8_fatal: Option<String>,
    pub last_gc_lines: Vec<String>,
    /// The GC trace analyser's own sentences.
    pub trace_evidence: Vec<String>,
}

/// Everything the decision looks at.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// Every sample, in time order, tagged with its phase.
    pub samples: Vec<Sample>,
    /// Requests completed over the run.
    pub requests: u64,
    pub responses: Responses,
    /// The target ran out of memory (the banner or the trace said so).
    pub oom: bool,
    /// ... before it listened (nothing was measured): a heap too small to start, not a leak.
    pub startup_oom: bool,
    /// How the start-up wait worded that crash, when it saw it (it knows whose heap flag was
    /// in force and the real heap limit).
    pub startup_oom_reason: Option<String>,
    /// Stopped by Ctrl-C / SIGTERM before the end.
    pub interrupted: bool,
    /// The target exited under load (without running out of memory).
    pub died: bool,
    /// Why the target failed otherwise (did not start, stopped answering the inspector).
    pub failure: Option<String>,
    /// V8's `heap_size_limit` in bytes (0 when never read).
    pub heap_limit: f64,
    /// The old-space size asked for (`--heap-mb`).
    pub heap_mb: u64,
    /// The idle phase's length.
    pub idle: Duration,
    pub load: Option<LoadWindow>,
    /// Throughput under load (requests/second).
    pub rps: f64,
    /// `--prod-rps`, `--prod-heap-mb`: the projection's inputs.
    pub prod_rps: Option<f64>,
    pub prod_heap_mb: f64,
    pub stopped_by: Option<Stop>,
    pub oom_detail: OomDetail,
    /// The endpoints driven with a varying mix (several endpoints, no `--endpoint`); empty
    /// otherwise.
    pub endpoints: Vec<EndpointId>,
    /// Cumulative requests per endpoint at each sample (aligned with `samples`), when
    /// `endpoints` is not empty.
    pub endpoint_counts: Vec<Vec<u64>>,
    /// What the samples' `requests` count: requests, or (`--load-cmd`) units of work or
    /// milliseconds since the start ([`crate::work_axis`]).
    pub axis: leakhound_report::run_schema::FitAxis,
    /// The requests the target's own HTTP servers had served at each sample (aligned with
    /// `samples`; empty when not read): the shape's axis on time ([`crate::time_shape`]).
    pub served: Vec<Option<u64>>,
}

impl Observations {
    /// A run of `samples` whose every request was answered 200, with a 128 MiB old space (a
    /// 176 MiB heap limit): the starting point of the decision tests.
    #[cfg(test)]
    pub(crate) fn served(samples: Vec<crate::verdict::Sample>) -> Observations {
        let requests = samples.last().map_or(0, |s| s.requests);
        Observations {
            samples,
            requests,
            responses: Responses {
                by_status: [(200, requests)].into_iter().collect(),
                ..Responses::default()
            },
            heap_limit: 176.0 * crate::verdict::MIB,
            heap_mb: 128,
            ..Observations::default()
        }
    }

    /// Indices (into `samples`) of the load-phase samples: the one after warm-up and every
    /// round's.
    pub fn load_indices(&self) -> Vec<usize> {
        self.samples
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.phase, Phase::Warmup | Phase::Load))
            .map(|(i, _)| i)
            .collect()
    }

    /// The served requests at each load-phase sample (empty when they were not read).
    pub fn load_served(&self) -> Vec<Option<u64>> {
        match self.served.len() == self.samples.len() {
            true => self
                .load_indices()
                .into_iter()
                .map(|i| self.served[i])
                .collect(),
            false => Vec::new(),
        }
    }

    pub fn load_samples(&self) -> Vec<Sample> {
        self.load_indices()
            .into_iter()
            .map(|i| self.samples[i])
            .collect()
    }

    /// The per-endpoint counts at the load-phase samples (empty without endpoints).
    pub fn load_endpoint_counts(&self) -> Vec<Vec<u64>> {
        if self.endpoint_counts.len() != self.samples.len() {
            return Vec::new();
        }
        self.load_indices()
            .into_iter()
            .map(|i| self.endpoint_counts[i].clone())
            .collect()
    }

    /// The last sample of the idle phase (after the whole idle time).
    pub fn idle_sample(&self) -> Option<&Sample> {
        self.samples.iter().rev().find(|s| s.phase == Phase::Idle)
    }
}
