//! The processes and worker threads a run follows (`processes[]`, `threads[]` of
//! `leakhound.run/v1`).
//!
//! A service is often more than one isolate: a cluster primary and its workers, a forked child
//! that serves, an `npm`/`npx` wrapper that does not, worker threads inside any of them. Each
//! gets its own samples and verdict here; the run's top-level fields describe the leaking one
//! (the steepest significant slope).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::{AllocSiteOut, FitOut, RunSample, SuspectOut};
use crate::verdict::{LeakKind, Verdict};

/// What a process is to the service.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessRole {
    /// The process leakhound started when it serves (or a cluster primary).
    #[default]
    Primary,
    /// A cluster worker (`cluster.fork()`).
    Worker,
    /// Another forked Node process (`child_process.fork`) that serves.
    Child,
    /// A process that does not serve: `npm`, `npx`, a loader parent.
    Wrapper,
}

impl ProcessRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessRole::Primary => "primary",
            ProcessRole::Worker => "worker",
            ProcessRole::Child => "child",
            ProcessRole::Wrapper => "wrapper",
        }
    }
}

/// One Node process of the target's tree that opened an inspector.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ProcessOut {
    pub pid: u32,
    pub role: ProcessRole,
    /// How the terminal names it: `worker 2 of 2, pid 4242`.
    pub label: String,
    /// Its command line, as `/proc/PID/cmdline` gave it.
    pub command: Vec<String>,
    /// Whether its sockets listen on the target port.
    pub serving: bool,
    /// Samples after a forced GC, on the run's clock; `requests` is the run's total unless the
    /// requests this process served could be known.
    pub samples: Vec<RunSample>,
    pub verdict: Verdict,
    pub leak_kind: LeakKind,
    /// Bytes per request (or per unit of the run's driver, see `unit`) this process retains;
    /// on an undecided (`inconclusive`) process whose memory grew, the fitted slope so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes_per_request: Option<f64>,
    /// The 95 % interval of that slope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes_per_request_ci: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitOut>,
    #[serde(default)]
    pub alloc_survivors: Vec<AllocSiteOut>,
    #[serde(default)]
    pub suspects: Vec<SuspectOut>,
    /// What drives this process's growth (`requests`, `time`, `work`, `iterations` ...), as
    /// the run's top-level `driver`; absent when it has no slope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<crate::endpoint::Driver>,
    /// Retained bytes per unit of `driver` (per request on a request-driven run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes_per_unit: Option<f64>,
    /// The unit of `retained_bytes_per_unit` (`request`, `second`, `unit`, `iteration` ...):
    /// what the tables print the slope per.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Its worker threads.
    #[serde(default)]
    pub threads: Vec<ThreadOut>,
    /// How it ended when it ended during the run (`ran out of memory; restarted as pid 4250`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
}

/// One worker thread (`worker_threads`), followed through the inspector's `NodeWorker` domain.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ThreadOut {
    /// The inspector's `workerId`.
    pub worker_id: String,
    /// `workerInfo.title` (e.g. `[worker 1] cache.js`).
    pub title: String,
    /// `workerInfo.url`: the worker's script, a path relative to the working directory when
    /// inside it.
    pub url: String,
    pub samples: Vec<RunSample>,
    pub verdict: Verdict,
    pub leak_kind: LeakKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes_per_request: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes_per_request_ci: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitOut>,
    #[serde(default)]
    pub alloc_survivors: Vec<AllocSiteOut>,
    #[serde(default)]
    pub suspects: Vec<SuspectOut>,
    /// As [`ProcessOut::driver`], [`ProcessOut::retained_bytes_per_unit`] and
    /// [`ProcessOut::unit`]: the thread's slope in the run's unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<crate::endpoint::Driver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes_per_unit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The thread ended during the run (its samples stop there).
    #[serde(default)]
    pub ended: bool,
    /// Why it was no longer sampled, when it stopped answering (a worker whose JS never
    /// yields cannot run a forced GC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
