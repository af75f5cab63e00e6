//! `leakhound.load/v1`: what `leakhound load --json` prints, and the `load` object inside
//! `leakhound.run/v1` (the engine's cumulative summary over all rounds).
//!
//! The producer is `leakhound-load` (`Engine::summary`), which re-exports these types under
//! their old names (`leakhound_load::Summary` is [`LoadSummary`]). The seed's text form (the
//! `Display` impl) lives here too: the orphan rule keeps it beside the type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The JSON schema name of [`LoadSummary`].
pub const SCHEMA: &str = "leakhound.load/v1";

/// Why a request failed without an HTTP status.
///
/// Declared in the alphabetical order of the JSON names so that `errors` (a map keyed by
/// kind) keeps the key order it had when the keys were strings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The bytes received were not a valid HTTP/1.1 response.
    BadResponse,
    /// The server closed the connection before the response was complete.
    ClosedEarly,
    /// No connection within the connect timeout.
    ConnectTimeout,
    /// Any other socket error.
    Other,
    /// The server refused the connection (nothing listening: the target died).
    Refused,
    /// The connection was reset.
    Reset,
    /// No full response within the per-request timeout.
    Timeout,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Refused,
        ErrorKind::Reset,
        ErrorKind::Timeout,
        ErrorKind::ConnectTimeout,
        ErrorKind::BadResponse,
        ErrorKind::ClosedEarly,
        ErrorKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Refused => "refused",
            ErrorKind::Reset => "reset",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ConnectTimeout => "connect-timeout",
            ErrorKind::BadResponse => "bad-response",
            ErrorKind::ClosedEarly => "closed-early",
            ErrorKind::Other => "other",
        }
    }

    pub fn from_io(e: &std::io::Error) -> ErrorKind {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => ErrorKind::Refused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ErrorKind::Reset,
            K::UnexpectedEof => ErrorKind::ClosedEarly,
            K::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Other,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed request, kept in full for the first few only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// The request's sequence number (its `{{seq}}`).
    pub request: u64,
    pub endpoint: String,
    pub reason: String,
}

/// Latency figures in milliseconds with µs resolution, over responses that had a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Latency {
    pub min_ms: f64,
    pub avg_ms: f64,
    pub max_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

/// The `leakhound.load/v1` object: the seed's summary, plus what the seed lacked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadSummary {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub target: String,
    pub endpoints: Vec<String>,
    pub connections: usize,
    /// Requests per second asked for (`-q`), or null in the closed model.
    pub rate: Option<f64>,
    pub rounds: u64,
    /// Every request sent: `successful + failed + aborted`.
    pub total_requests: u64,
    pub successful: u64,
    pub failed: u64,
    /// Requests the client abandoned on purpose (`--abort`) after sending them and before the
    /// response ended: not failures, and without a status or a latency.
    #[serde(default)]
    pub aborted: u64,
    /// TCP connections the client opened: at most `connections` per round with keep-alive,
    /// one per request with `--no-keepalive`, plus one per aborted request and per connection
    /// the server closed.
    #[serde(default)]
    pub connections_opened: u64,
    pub total_time_s: f64,
    pub requests_per_sec: f64,
    /// Null when no response had a status.
    pub latency: Option<Latency>,
    /// Counts per status code, e.g. `{"200": 998, "500": 2}`.
    pub status_codes: BTreeMap<String, u64>,
    /// Counts per status class: `1xx` .. `5xx`.
    pub status_classes: BTreeMap<String, u64>,
    /// Counts per transport error kind (every kind present, zero or not).
    #[schemars(schema_with = "error_counts_schema")]
    pub errors: BTreeMap<ErrorKind, u64>,
    pub bytes_received: u64,
    /// Requests in flight at the deadline that were waited for and then counted.
    pub completed_after_deadline: u64,
    /// The first five failures, with their reason.
    pub first_failures: Vec<Failure>,
}

/// `errors` is an object whose keys are [`ErrorKind`] names (schemars does not say so for a
/// map keyed by an enum on its own).
fn error_counts_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": generator.subschema_for::<ErrorKind>(),
        "additionalProperties": { "type": "integer", "format": "uint64", "minimum": 0 },
    })
}

impl LoadSummary {
    /// No request got an expected answer, and not because every one was aborted on purpose
    /// (`--abort 100%` answers nothing by design).
    pub fn nothing_succeeded(&self) -> bool {
        self.successful == 0 && (self.failed > 0 || self.aborted == 0)
    }
}

impl std::fmt::Display for LoadSummary {
    /// The seed's summary, then percentiles, status codes and error kinds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Load test summary ({})", self.target)?;
        writeln!(f, "Total requests: {}", self.total_requests)?;
        writeln!(f, "Successful: {}", self.successful)?;
        writeln!(f, "Failed: {}", self.failed)?;
        if self.aborted > 0 {
            writeln!(f, "Aborted (by the client, --abort): {}", self.aborted)?;
        }
        writeln!(f, "Total time: {:.3} s", self.total_time_s)?;
        if let Some(l) = &self.latency {
            writeln!(f, "Average response time: {:.3} ms", l.avg_ms)?;
            writeln!(f, "Min response time: {:.3} ms", l.min_ms)?;
            writeln!(f, "Max response time: {:.3} ms", l.max_ms)?;
        }
        // Failures come back fast (a refused connection): their rate is not throughput.
        if self.nothing_succeeded() {
            writeln!(f, "Requests/sec: 0 (no request succeeded)")?;
        } else {
            writeln!(f, "Requests/sec: {:.1}", self.requests_per_sec)?;
        }
        if let Some(l) = &self.latency {
            writeln!(
                f,
                "Latency: p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
                l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms
            )?;
        }
        if !self.status_codes.is_empty() {
            let codes: Vec<String> = self
                .status_codes
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            writeln!(f, "Status codes: {}", codes.join(", "))?;
        }
        let errs: Vec<String> = self
            .errors
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        writeln!(
            f,
            "Errors: {}",
            if errs.is_empty() {
                "none".to_string()
            } else {
                errs.join(", ")
            }
        )?;
        writeln!(f, "Bytes received: {}", self.bytes_received)?;
        writeln!(f, "Connections opened: {}", self.connections_opened)?;
        if self.completed_after_deadline > 0 {
            writeln!(
                f,
                "In flight at the deadline and waited for: {}",
                self.completed_after_deadline
            )?;
        }
        if !self.first_failures.is_empty() {
            writeln!(f, "\nFailed requests:")?;
            for fl in &self.first_failures {
                writeln!(
                    f,
                    "  Request #{} ({}): {}",
                    fl.request, fl.endpoint, fl.reason
                )?;
            }
        }
        Ok(())
    }
}
