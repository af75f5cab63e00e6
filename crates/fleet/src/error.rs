//! What can go wrong reading a fleet: each variant is one line for the user, and the binary
//! maps [`FleetError::TooLittleData`] to exit 3, everything else to exit 2.

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("--prometheus {0}")]
    NotLoopback(String),
    #[error("--prometheus {0}")]
    BadUrl(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Http(String),
    #[error("Prometheus answered: {0}")]
    Prometheus(String),
    #[error("{0}")]
    Response(String),
    /// The window holds too little to judge any instance (no series, or fewer than
    /// [`crate::analysis::MIN_POINTS`] points for every instance).
    #[error("{0}")]
    TooLittleData(String),
}
