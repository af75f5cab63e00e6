//! Tallies that stay the same size however long the run: an HDR histogram of latencies in µs,
//! counts per status code and per error kind, and only the first few failures in full.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a request failed without an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The server refused the connection (nothing listening: the target died).
    Refused,
    /// The connection was reset.
    Reset,
    /// No full response within the per-request timeout.
    Timeout,
    /// No connection within the connect timeout.
    ConnectTimeout,
    /// The bytes received were not a valid HTTP/1.1 response.
    BadResponse,
    /// The server closed the connection before the response was complete.
    ClosedEarly,
    /// Any other socket error.
    Other,
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

/// One failed request, kept in full for the first few only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The request's sequence number (its `{{seq}}`).
    pub request: u64,
    pub endpoint: String,
    pub reason: String,
}

/// How many failures are kept in full (the seed prints the first five).
pub const KEEP_FAILURES: usize = 5;

/// Highest latency the histogram tracks exactly (1 hour); larger values are clamped.
const MAX_US: u64 = 3_600_000_000;

/// Running tallies for a round or a whole run. Merging two is exact.
#[derive(Debug, Clone)]
pub struct Stats {
    pub hist: Histogram<u64>,
    pub succeeded: u64,
    pub failed: u64,
    pub bytes: u64,
    pub latency_sum_us: u128,
    /// Requests answered after the round's deadline (waited for, up to the timeout).
    pub after_deadline: u64,
    pub status: BTreeMap<u16, u64>,
    pub errors: [u64; 7],
    pub failures: Vec<Failure>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            hist: Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"),
            succeeded: 0,
            failed: 0,
            bytes: 0,
            latency_sum_us: 0,
            after_deadline: 0,
            status: BTreeMap::new(),
            errors: [0; 7],
            failures: Vec::new(),
        }
    }
}

impl Stats {
    pub fn completed(&self) -> u64 {
        self.succeeded + self.failed
    }

    /// A response with a status; `true` when `expect` holds it (by default 2xx and 3xx).
    pub fn record_response(
        &mut self,
        status: u16,
        latency_us: u64,
        expect: &crate::StatusSet,
    ) -> bool {
        let lat = latency_us.clamp(1, MAX_US);
        let _ = self.hist.record(lat);
        self.latency_sum_us += lat as u128;
        *self.status.entry(status).or_insert(0) += 1;
        expect.contains(status)
    }

    pub fn record_error(&mut self, kind: ErrorKind) {
        self.errors[kind as usize] += 1;
        self.failed += 1;
    }

    pub fn keep_failure(&mut self, f: impl FnOnce() -> Failure) {
        if self.failures.len() < KEEP_FAILURES {
            self.failures.push(f());
        }
    }

    pub fn merge(&mut self, o: &Stats) {
        let _ = self.hist.add(&o.hist);
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.bytes += o.bytes;
        self.latency_sum_us += o.latency_sum_us;
        self.after_deadline += o.after_deadline;
        for (k, v) in &o.status {
            *self.status.entry(*k).or_insert(0) += v;
        }
        for (a, b) in self.errors.iter_mut().zip(o.errors) {
            *a += b;
        }
        for f in &o.failures {
            if self.failures.len() < KEEP_FAILURES {
                self.failures.push(f.clone());
            }
        }
    }
}

/// Latency figures in milliseconds with µs resolution, over responses that had a status.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub target: String,
    pub endpoints: Vec<String>,
    pub connections: usize,
    /// Requests per second asked for (`-q`), or null in the closed model.
    pub rate: Option<f64>,
    pub rounds: u64,
    pub total_requests: u64,
    pub successful: u64,
    pub failed: u64,
    pub total_time_s: f64,
    pub requests_per_sec: f64,
    /// Null when no response had a status.
    pub latency: Option<Latency>,
    /// Counts per status code, e.g. `{"200": 998, "500": 2}`.
    pub status_codes: BTreeMap<String, u64>,
    /// Counts per status class: `1xx` .. `5xx`.
    pub status_classes: BTreeMap<String, u64>,
    /// Counts per transport error kind (every kind present, zero or not).
    pub errors: BTreeMap<&'static str, u64>,
    pub bytes_received: u64,
    /// Requests in flight at the deadline that were waited for and then counted.
    pub completed_after_deadline: u64,
    /// The first five failures, with their reason.
    pub first_failures: Vec<Failure>,
}

impl Summary {
    pub(crate) fn build(stats: &Stats, plan: &crate::Plan, rounds: u64, elapsed_s: f64) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        let latency = (!stats.hist.is_empty()).then(|| Latency {
            min_ms: ms(stats.hist.min()),
            avg_ms: stats.latency_sum_us as f64 / stats.hist.len() as f64 / 1000.0,
            max_ms: ms(stats.hist.max()),
            p50_ms: ms(stats.hist.value_at_quantile(0.50)),
            p90_ms: ms(stats.hist.value_at_quantile(0.90)),
            p99_ms: ms(stats.hist.value_at_quantile(0.99)),
            p999_ms: ms(stats.hist.value_at_quantile(0.999)),
        });
        let mut classes = BTreeMap::new();
        for (code, n) in &stats.status {
            *classes.entry(format!("{}xx", code / 100)).or_insert(0) += n;
        }
        let total = stats.completed();
        Summary {
            schema: "leakhound.load/v1",
            target: plan.target.host_header.clone(),
            endpoints: plan.endpoints.iter().map(|e| e.name.clone()).collect(),
            connections: plan.connections,
            rate: plan.rate,
            rounds,
            total_requests: total,
            successful: stats.succeeded,
            failed: stats.failed,
            total_time_s: elapsed_s,
            requests_per_sec: if elapsed_s > 0.0 {
                total as f64 / elapsed_s
            } else {
                0.0
            },
            latency,
            status_codes: stats
                .status
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            status_classes: classes,
            errors: ErrorKind::ALL
                .iter()
                .map(|k| (k.as_str(), stats.errors[*k as usize]))
                .collect(),
            bytes_received: stats.bytes,
            completed_after_deadline: stats.after_deadline,
            first_failures: stats.failures.clone(),
        }
    }
}

impl std::fmt::Display for Summary {
    /// The seed's summary, then percentiles, status codes and error kinds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Load test summary ({})", self.target)?;
        writeln!(f, "Total requests: {}", self.total_requests)?;
        writeln!(f, "Successful: {}", self.successful)?;
        writeln!(f, "Failed: {}", self.failed)?;
        writeln!(f, "Total time: {:.3} s", self.total_time_s)?;
        if let Some(l) = &self.latency {
            writeln!(f, "Average response time: {:.3} ms", l.avg_ms)?;
            writeln!(f, "Min response time: {:.3} ms", l.min_ms)?;
            writeln!(f, "Max response time: {:.3} ms", l.max_ms)?;
        }
        // Failures come back fast (a refused connection): their rate is not throughput.
        if self.successful == 0 {
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
