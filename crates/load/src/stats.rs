//! Tallies that stay the same size however long the run: an HDR histogram of latencies in µs,
//! counts per status code and per error kind, and only the first few failures in full.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;

pub use leakhound_schema::load::{ErrorKind, Failure, Latency, LoadSummary as Summary};

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
    /// Requests abandoned on purpose (`--abort`): neither successes nor failures.
    pub aborted: u64,
    /// Connections the client opened (successful connects).
    pub connections_opened: u64,
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
            aborted: 0,
            connections_opened: 0,
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
    /// Requests finished one way or another: answered, failed, or abandoned on purpose.
    pub fn completed(&self) -> u64 {
        self.succeeded + self.failed + self.aborted
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
        self.aborted += o.aborted;
        self.connections_opened += o.connections_opened;
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

/// The cumulative `leakhound.load/v1` summary of `stats` (a free function: the type lives in
/// the schema crate).
pub(crate) fn build_summary(
    stats: &Stats,
    plan: &crate::Plan,
    rounds: u64,
    elapsed_s: f64,
) -> Summary {
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
        schema: leakhound_schema::load::SCHEMA.to_string(),
        target: plan.target.host_header.clone(),
        endpoints: plan.endpoints.iter().map(|e| e.name.clone()).collect(),
        connections: plan.connections,
        rate: plan.rate,
        rounds,
        total_requests: total,
        successful: stats.succeeded,
        failed: stats.failed,
        aborted: stats.aborted,
        connections_opened: stats.connections_opened,
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
            .map(|k| (*k, stats.errors[*k as usize]))
            .collect(),
        bytes_received: stats.bytes,
        completed_after_deadline: stats.after_deadline,
        first_failures: stats.failures.clone(),
    }
}
