//! What can stop a watch before it has a verdict.

use std::time::Duration;

/// Errors of `leakhound attach`; each is one line for the user (the binary exits 2).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// `--inspect` named an address that is not loopback: the inspector runs arbitrary code,
    /// so leakhound never talks to one over the network.
    #[error("--inspect {0}: only loopback addresses are accepted (127.0.0.0/8, [::1], localhost): the inspector runs arbitrary code in the process; reach a remote one through an SSH tunnel")]
    NotLoopback(String),
    #[error("--inspect {0}: expected HOST:PORT such as 127.0.0.1:9229")]
    BadAddress(String),
    #[error("no process {0}: {1}")]
    NoProcess(u32, String),
    #[error(
        "process {pid} ({exe}) is not a Node.js process: SIGUSR1 would not open an inspector there"
    )]
    NotNode { pid: u32, exe: String },
    #[error("process {pid} neither handles nor ignores SIGUSR1, so the signal would kill it; start it with --inspect=127.0.0.1:PORT and use `leakhound attach --inspect 127.0.0.1:PORT`")]
    SignalWouldKill { pid: u32 },
    #[error("process {pid}: {detail}; start it with --inspect=127.0.0.1:PORT and use `leakhound attach --inspect 127.0.0.1:PORT`")]
    NoInspector { pid: u32, detail: String },
    #[error("no inspector answers at http://{addr}/json/list within {waited:?}: {detail}")]
    Unreachable {
        addr: String,
        waited: Duration,
        detail: String,
    },
    #[error("the inspector at {addr} belongs to process {found}, not {wanted}")]
    WrongProcess {
        addr: String,
        wanted: u32,
        found: u32,
    },
    #[error("sending SIGUSR1 to {pid}: {detail}")]
    Signal { pid: u32, detail: String },
    #[error(transparent)]
    Inspector(#[from] leakhound_inspector::CdpError),
    #[error("{0}")]
    Io(String),
}

pub type Result<T> = std::result::Result<T, LiveError>;
