//! The end of a run: read what the loop and the target's output gathered into
//! [`Observations`], [`decide`], and assemble the report. The only impure step is the reading.

use std::sync::atomic::Ordering;

use leakhound_report::run_schema::MemLineOut;

use crate::decide::decide;
use crate::observations::{LoadWindow, Observations, OomDetail, Responses};
use crate::options::{RunOptions, RunOutcome};
use crate::process_verdicts;
use crate::report::{self, Captured};
use crate::state::State;
use crate::target::Target;

/// Decide the run the loop in [`crate::run`] drove, and write its report.
pub(crate) fn conclude(
    opts: &RunOptions,
    port: u16,
    target: &Target,
    st: &State,
    interrupted: bool,
) -> RunOutcome {
    let (obs, mut captured) = observe(opts, port, target, st, interrupted);
    let (requests, rps) = (obs.requests, obs.rps);
    // Each process judged on its own series; the top level describes the leaking one.
    let th = crate::work_axis::thresholds(&opts.thresholds, st.axis);
    let judged = process_verdicts::judge(&obs, &st.procs, &st.threads, &th);
    let leader = process_verdicts::leader(&judged, &st.procs);
    let mut top = obs;
    if let Some(j) = leader.and_then(|i| judged.iter().find(|j| j.index == i)) {
        top.samples = j.obs.samples.clone();
        top.served = j.obs.served.clone();
        top.rps = j.obs.rps;
        top.heap_limit = j.obs.heap_limit;
        let pid = st.procs.list[j.index].pid;
        if pid != captured.target_pid {
            captured.target_pid = pid;
            captured.gc_events = target.captured.lock().unwrap().gc_events.events_of(pid);
        }
    }
    let obs = top;
    let mut decision = decide(&obs, &th);
    // The serving process's worker threads live in its RSS: what they hold is not growth
    // outside the heaps.
    let rss_note = if captured.target_pid == st.serving_pid {
        let mut with_threads = obs.clone();
        with_threads.samples = st.threads.with_thread_heaps(&obs.samples);
        crate::rss_growth::apply(&mut decision, &with_threads, &th)
    } else {
        crate::rss_growth::apply(&mut decision, &obs, &th)
    };
    crate::work_axis::apply(&mut decision, &obs);
    let mut outcome = report::outcome(&decision, &obs, captured);
    let (evidence, warnings) = process_verdicts::sentences(&judged, &st.procs);
    let r = &mut outcome.report;
    if let Some(n) = rss_note {
        r.evidence.insert(r.evidence.len().min(1), n);
    }
    // The fit and the projection are the leading process's (its requests, its share of the
    // throughput); the run's own figures stay the run's.
    r.requests = requests;
    r.requests_per_second = rps;
    r.evidence.splice(0..0, evidence);
    r.warnings.extend(warnings);
    r.processes = process_verdicts::outs(&judged, &st.procs);
    crate::work_axis::words(r, &decision, &obs);
    outcome
}

/// The analysis after the run (the snapshots, the heap at death) was stopped by Ctrl-C /
/// SIGTERM: the run ends `interrupted` (exit 130) like one stopped under load, with the
/// figures it had.
pub(crate) fn analysis_interrupted(outcome: &mut RunOutcome) {
    let r = &mut outcome.report;
    r.verdict = leakhound_schema::Verdict::Interrupted;
    r.leak_kind = leakhound_schema::LeakKind::None;
    r.reason = Some("interrupted while the heap snapshots were analysed".into());
    outcome.exit_code = crate::exit_code::INTERRUPTED;
}

/// The serving process's worker threads, each decided on a copy of its main isolate's
/// observations; a leaking thread takes the top level ([`crate::thread_verdicts`]).
pub(crate) fn threads(
    opts: &RunOptions,
    port: u16,
    target: &Target,
    st: &State,
    interrupted: bool,
    outcome: &mut RunOutcome,
) -> Option<usize> {
    if st.threads.list.is_empty() {
        return None;
    }
    let (obs, captured) = observe(opts, port, target, st, interrupted);
    crate::thread_verdicts::apply(opts, &st.threads.list, &obs, &captured, outcome)
}

/// What the main isolate's run saw (the decision's input) and what the report carries beside
/// it; worker threads are decided on copies of these ([`crate::thread_verdicts`]).
pub(crate) fn observe(
    opts: &RunOptions,
    port: u16,
    target: &Target,
    st: &State,
    interrupted: bool,
) -> (Observations, Captured) {
    let cap = target.captured.lock().unwrap();
    let trace = cap.trace.analysis();
    let oom = cap.oom || trace.oom;
    let requests = st.counters.completed.load(Ordering::Relaxed);
    let load_secs = match (st.load_started, st.load_ended) {
        (Some((a, _, _)), Some((b, _, _))) => (b - a).as_secs_f64(),
        (Some((a, _, _)), None) => a.elapsed().as_secs_f64(),
        _ => 0.0,
    };
    // Throughput over the time under load (the engine's own clock), else over the load window.
    let rps = match &st.summary {
        Some(s) if s.requests_per_sec > 0.0 => s.requests_per_sec,
        _ if load_secs > 0.0 => requests as f64 / load_secs,
        _ => 0.0,
    };
    let responses = match &st.summary {
        Some(s) => Responses {
            by_status: s
                .status_codes
                .iter()
                .filter_map(|(k, n)| Some((k.parse().ok()?, *n)))
                .collect(),
            transport: s.errors.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            expect: opts.plan.expect_status.clone(),
            aborted: s.aborted,
        },
        None => Responses {
            expect: opts.plan.expect_status.clone(),
            ..Responses::default()
        },
    };
    let load = match (st.load_started, st.load_ended) {
        (Some((t0, a0, p0)), Some((t1, a1, p1))) => Some(LoadWindow {
            seconds: (t1 - t0).as_secs_f64(),
            allocated_bytes: a1 - a0,
            gc_pause_ms: p1 - p0,
        }),
        _ => None,
    };
    let obs = Observations {
        samples: st.samples.clone(),
        requests,
        responses,
        oom,
        // Nothing was measured: the target never got to serve (it ran out while starting).
        startup_oom: oom && (st.startup.oom_before_listening || st.samples.is_empty()),
        startup_oom_reason: st
            .startup
            .oom_before_listening
            .then(|| st.failure.clone())
            .flatten(),
        interrupted,
        died: st.died,
        failure: st.failure.clone(),
        heap_limit: st.heap_limit,
        // The old space in force: the user's own --max-old-space-size when they gave one.
        heap_mb: target.old_space.mb,
        idle: opts.idle,
        load,
        rps,
        prod_rps: opts.prod_rps,
        prod_heap_mb: opts.prod_heap_mb,
        stopped_by: st.stopped_by,
        oom_detail: OomDetail {
            v8_fatal: trace.oom_report.as_ref().and_then(|o| o.fatal_line.clone()),
            last_gc_lines: cap.gc.last_lines.iter().cloned().collect(),
            trace_evidence: trace.evidence.clone(),
        },
        endpoints: st.mix.endpoints.clone(),
        endpoint_counts: st.mix.at_samples.clone(),
        axis: st.axis,
        served: served(st),
    };
    let captured = Captured {
        command: opts.command.clone(),
        port,
        target_pid: st.serving_pid,
        duration_s: st.started.elapsed().as_secs_f64(),
        gc_count: cap.gc.gcs,
        major_gc_count: cap.gc.majors,
        gc_last_lines: if trace.last_gc_lines.is_empty() {
            cap.gc.last_lines.iter().cloned().collect()
        } else {
            trace.last_gc_lines.clone()
        },
        gc_trace: Some(trace.clone()),
        gc_events: cap.gc_events.events_of(st.serving_pid),
        mem_lines: cap
            .mem_lines
            .iter()
            .map(|m| MemLineOut {
                label: m.label.clone(),
                mb: m.mb,
            })
            .collect(),
        target_stderr_tail: cap.stderr_tail.iter().cloned().collect(),
        rounds: st.rounds.clone(),
        load: st.summary.clone(),
    };
    (obs, captured)
}

/// The requests the main process's own HTTP servers had served at each of the run's samples.
fn served(st: &State) -> Vec<Option<u64>> {
    let Some(p) = st.procs.main.and_then(|m| st.procs.list.get(m)) else {
        return Vec::new();
    };
    crate::time_shape::served_at(&st.samples, &p.samples, &p.own)
}

#[cfg(test)]
mod tests {
    use leakhound_schema::{LeakKind, Verdict};

    #[test]
    fn an_analysis_stopped_after_the_run_makes_it_interrupted_with_its_figures() {
        let mut o = super::RunOutcome {
            report: leakhound_report::run_schema::RunReport {
                verdict: Verdict::Leak,
                leak_kind: LeakKind::JsHeap,
                retained_bytes_per_request: 2048.0,
                ..Default::default()
            },
            exit_code: crate::exit_code::LEAK,
        };
        super::analysis_interrupted(&mut o);
        assert_eq!(o.report.verdict, Verdict::Interrupted);
        assert_eq!(o.report.leak_kind, LeakKind::None);
        assert_eq!(o.exit_code, 130);
        assert_eq!(o.report.retained_bytes_per_request, 2048.0);
        assert!(o
            .report
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("heap snapshots were analysed")));
    }
}
