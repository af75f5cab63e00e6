//! The session crate's one error type: what stops `run` before it can reach any outcome.
//!
//! Every ending the run can explain (a target that fails, an interrupt, a verdict) is an
//! outcome, not an error; these are the tool's own failures (exit 2): a command that cannot
//! be started, a directory that cannot be made, a load plan that is invalid, an inspector that
//! never answered. Each names what was being done.

/// A tool error of `run`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system or process operation, with what was being done.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The load plan (from the `load` crate).
    #[error(transparent)]
    Load(#[from] leakhound_load::Error),
    /// The inspector protocol.
    #[error(transparent)]
    Inspector(#[from] leakhound_inspector::CdpError),
    /// A heap snapshot that cannot be read.
    #[error(transparent)]
    Heap(#[from] leakhound_heap::OpenError),
    /// Something about the target or the request that the user must change.
    #[error("{0}")]
    Invalid(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Name what was being done when an I/O operation failed.
pub(crate) trait IoContext<T> {
    fn io_context<C: std::fmt::Display, F: FnOnce() -> C>(self, f: F) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context<C: std::fmt::Display, F: FnOnce() -> C>(self, f: F) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: f().to_string(),
            source,
        })
    }
}
