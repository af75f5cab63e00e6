//! The `leakhound.run/v1` document of a run, assembled from the [`Decision`] (verdict, fit,
//! statistics, reason, warnings), its words ([`crate::evidence`]), the [`Observations`] it was
//! made on (samples, counts) and what the run captured beside them ([`Captured`]).

use leakhound_report::run_schema::{
    GcEventOut, MemLineOut, RoundOut, RunReport, RunSample, Verdict, SCHEMA,
};

use leakhound_schema::endpoint::EndpointOut;

use crate::decide::Decision;
use crate::evidence;
use crate::observations::Observations;
use crate::options::RunOutcome;

/// What the report carries that the decision does not look at.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub command: Vec<String>,
    pub port: u16,
    pub target_pid: u32,
    pub duration_s: f64,
    pub gc_count: u64,
    pub major_gc_count: u64,
    pub gc_last_lines: Vec<String>,
    pub gc_trace: Option<leakhound_gctrace::GcAnalysis>,
    pub gc_events: Vec<GcEventOut>,
    pub mem_lines: Vec<MemLineOut>,
    pub target_stderr_tail: Vec<String>,
    pub rounds: Vec<RoundOut>,
    pub load: Option<leakhound_load::Summary>,
}

/// The report and exit code of a decided run.
pub fn outcome(d: &Decision, obs: &Observations, c: Captured) -> RunOutcome {
    let fit = d.fit.as_ref();
    let report = RunReport {
        schema: SCHEMA.into(),
        verdict: d.verdict,
        leak_kind: d.kind,
        oom: obs.oom,
        duration_s: c.duration_s,
        requests: obs.requests,
        retained_bytes_per_request: d.retained_bytes_per_request,
        heap_limit_bytes: obs.heap_limit as u64,
        evidence: evidence::evidence(d, obs),
        samples: obs
            .samples
            .iter()
            .map(|s| RunSample {
                t_s: s.t_s,
                requests: s.requests,
                heap_used: s.heap_used as u64,
                external: s.external as u64,
                array_buffers: s.array_buffers as u64,
                rss: s.rss as u64,
                phase: s.phase,
            })
            .collect(),
        retained_bytes_per_request_ci: fit.map(|f| [f.ci_low, f.ci_high]),
        r_squared: fit.map(|f| f.r_squared),
        mann_kendall_p: d.mann_kendall_p,
        requests_per_second: obs.rps,
        http_errors: obs.responses.unexpected_statuses(),
        transport_errors: obs.responses.transport_errors(),
        projection: evidence::projection(d),
        projection_seconds: d.projection.map(|p| p.seconds),
        allocation_pressure: evidence::pressure(d),
        allocated_bytes_per_request: d.allocation.map(|a| a.bytes_per_request),
        gc_time_share: d.allocation.map(|a| a.gc_share),
        gc_count: c.gc_count,
        major_gc_count: c.major_gc_count,
        gc_last_lines: c.gc_last_lines,
        gc_trace: c.gc_trace,
        mem_lines: c.mem_lines,
        target_failed: (d.verdict == Verdict::TargetFailed)
            .then(|| d.reason.clone())
            .flatten(),
        target_stderr_tail: c.target_stderr_tail,
        command: c.command,
        port: c.port,
        target_pid: c.target_pid,
        gc_events: c.gc_events,
        rounds: c.rounds,
        load: c.load,
        reason: d.reason.clone(),
        warnings: d.warnings.clone(),
        fit: d.fit.clone(),
        endpoints: d
            .endpoints
            .iter()
            .filter_map(|e| {
                let id = obs.endpoints.get(e.index)?;
                Some(EndpointOut {
                    name: id.name.clone(),
                    method: id.method.clone(),
                    path: id.path.clone(),
                    requests: e.requests,
                    retained_bytes_per_request: e.coef.slope,
                    ci_low: e.coef.lo,
                    ci_high: e.coef.hi,
                    verdict: e.verdict,
                })
            })
            .collect(),
        driver: d.fit.is_some().then_some(d.driver),
        retained_bytes_per_unit: d.fit.is_some().then_some(d.bytes_per_unit),
        unit: d.fit.is_some().then(|| d.driver.unit().to_string()),
        ..Default::default()
    };
    RunOutcome {
        report,
        exit_code: d.exit_code,
    }
}
