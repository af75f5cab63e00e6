//! The verdict of each worker thread, and of the run with them: each thread is decided by the
//! same pure [`decide`] on its own series (the main isolate's observations with the thread's
//! samples), and a thread that leaks more steeply than the main isolate (or while it does
//! not leak) becomes what the top-level fields describe: verdict, kind, slope, evidence,
//! samples, allocation sites and suspects. The main isolate keeps its own copy under
//! `processes[]`, the threads theirs under its `threads[]`.

use leakhound_report::run_schema::{RunReport, Verdict};
use leakhound_schema::process::{ProcessOut, ProcessRole, ThreadOut};

use crate::decide::decide;
use crate::observations::Observations;
use crate::options::{RunOptions, RunOutcome};
use crate::report::{self, Captured};
use crate::threads::{shown_url, Thread};

/// One thread's decided result, as a whole report (so the top-level can take it over).
struct Decided {
    out: ThreadOut,
    report: RunReport,
    exit_code: i32,
    label: String,
}

/// Decide every thread of `threads` and fold them into `outcome` (the main isolate's, its
/// culprit already filled). Returns the index of the thread the top level now describes.
pub(crate) fn apply(
    opts: &RunOptions,
    threads: &[Thread],
    obs: &Observations,
    captured: &Captured,
    outcome: &mut RunOutcome,
) -> Option<usize> {
    if threads.is_empty() {
        return None;
    }
    let decided: Vec<Decided> = threads
        .iter()
        .map(|t| decide_thread(opts, t, obs, captured))
        .collect();
    let r = &mut outcome.report;
    let main = main_process(r);
    let slopes: Vec<(Verdict, f64)> = decided
        .iter()
        .map(|d| (d.report.verdict, per_unit(&d.report)))
        .collect();
    let lead = lead((r.verdict, per_unit(r)), &slopes);
    let mut process = main;
    process.threads = decided.iter().map(|d| d.out.clone()).collect();
    if let Some(i) = lead {
        let d = &decided[i];
        take_over(
            r,
            &d.report,
            &format!("{} of pid {}", d.label, r.target_pid),
        );
        outcome.exit_code = d.exit_code;
    }
    // Every thread's saved profiles are listed (the leading one's already are).
    for (_, d) in decided.iter().enumerate().filter(|(i, _)| Some(*i) != lead) {
        r.alloc_profiles
            .extend(d.report.alloc_profiles.iter().cloned());
    }
    // With the per-process model (cluster workers) the serving process may already be there.
    match r.processes.iter_mut().find(|p| p.pid == process.pid) {
        Some(p) => p.threads = process.threads,
        None => r.processes.insert(0, process),
    }
    lead
}

/// Which thread the top-level describes: the leaking thread with the steepest slope, unless
/// the main isolate leaks at least as steeply. `None` keeps the main isolate's.
fn lead(main: (Verdict, f64), threads: &[(Verdict, f64)]) -> Option<usize> {
    threads
        .iter()
        .enumerate()
        .filter(|(_, (v, _))| *v == Verdict::Leak)
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
        .map(|(i, _)| i)
        .filter(|&i| main.0 != Verdict::Leak || threads[i].1 > main.1)
}

fn decide_thread(opts: &RunOptions, t: &Thread, obs: &Observations, c: &Captured) -> Decided {
    // The process's facts stand (interrupted, died, failed requests); the memory is the
    // thread's. The out-of-memory banner and the GC trace are the main thread's.
    let tobs = Observations {
        samples: t.samples.clone(),
        heap_limit: if t.heap_limit > 0.0 {
            t.heap_limit
        } else {
            obs.heap_limit
        },
        oom: false,
        startup_oom: false,
        startup_oom_reason: None,
        load: None,
        ..obs.clone()
    };
    // A `--load-cmd` or `--workload` run: the thread's series is on the run's axis too.
    let mut d = decide(
        &tobs,
        &crate::work_axis::thresholds(&opts.thresholds, obs.axis),
    );
    crate::work_axis::apply(&mut d, &tobs);
    let mut report = report::outcome(&d, &tobs, c.clone()).report;
    crate::work_axis::words(&mut report, &d, &tobs);
    t.culprit.fill(&mut report);
    let out = ThreadOut {
        worker_id: t.target.worker_id.clone(),
        title: t.target.title.clone(),
        url: shown_url(&t.target.url),
        samples: report.samples.clone(),
        verdict: report.verdict,
        leak_kind: report.leak_kind,
        retained_bytes_per_request: Some(report.retained_bytes_per_request),
        retained_bytes_per_request_ci: report.retained_bytes_per_request_ci,
        fit: report.fit.clone(),
        alloc_survivors: report.alloc_survivors.clone(),
        suspects: report.suspects.clone(),
        driver: report.driver,
        retained_bytes_per_unit: report.retained_bytes_per_unit,
        unit: report.unit.clone(),
        ended: !t.target.attached,
        note: t.note.clone(),
    };
    Decided {
        out,
        report,
        exit_code: d.exit_code,
        label: t.label(),
    }
}

/// A report's slope in its own unit (per request on a request-driven run, where the two are
/// equal; per second, unit of work or iteration otherwise, where the per-request one is 0).
fn per_unit(r: &RunReport) -> f64 {
    r.retained_bytes_per_unit
        .unwrap_or(r.retained_bytes_per_request)
}

/// The serving process's main isolate, as the report describes it before any take-over.
fn main_process(r: &RunReport) -> ProcessOut {
    ProcessOut {
        pid: r.target_pid,
        role: ProcessRole::Primary,
        label: format!("pid {}", r.target_pid),
        command: r.command.clone(),
        serving: true,
        samples: r.samples.clone(),
        verdict: r.verdict,
        leak_kind: r.leak_kind,
        retained_bytes_per_request: Some(r.retained_bytes_per_request),
        retained_bytes_per_request_ci: r.retained_bytes_per_request_ci,
        fit: r.fit.clone(),
        alloc_survivors: r.alloc_survivors.clone(),
        suspects: r.suspects.clone(),
        driver: r.driver,
        retained_bytes_per_unit: r.retained_bytes_per_unit,
        unit: r.unit.clone(),
        threads: Vec::new(),
        exit: None,
    }
}

/// The top-level fields become the leaking thread's; the run's own facts (command, load,
/// GC trace, rounds) stay.
fn take_over(r: &mut RunReport, t: &RunReport, label: &str) {
    r.verdict = t.verdict;
    r.leak_kind = t.leak_kind;
    r.retained_bytes_per_request = t.retained_bytes_per_request;
    r.retained_bytes_per_request_ci = t.retained_bytes_per_request_ci;
    r.driver = t.driver;
    r.retained_bytes_per_unit = t.retained_bytes_per_unit;
    r.unit = t.unit.clone();
    r.r_squared = t.r_squared;
    r.mann_kendall_p = t.mann_kendall_p;
    r.heap_limit_bytes = t.heap_limit_bytes;
    r.samples = t.samples.clone();
    r.fit = t.fit.clone();
    r.projection = t.projection.clone();
    r.projection_seconds = t.projection_seconds;
    r.reason = t.reason.clone();
    r.alloc_all = t.alloc_all.clone();
    r.alloc_survivors = t.alloc_survivors.clone();
    r.alloc_trees = t.alloc_trees.clone();
    r.alloc_sampling_interval = t.alloc_sampling_interval.or(r.alloc_sampling_interval);
    r.suspects = t.suspects.clone();
    // The thread's culprit sentence (its line in the worker's file), or none: the main
    // isolate's would name what does not leak.
    r.culprit = t.culprit.clone();
    r.source_excerpts = t.source_excerpts.clone();
    r.snapshots = t.snapshots.clone();
    r.alloc_profiles.extend(t.alloc_profiles.iter().cloned());
    r.culprit_notes.extend(t.culprit_notes.iter().cloned());
    let mut evidence = vec![format!("the leak is in {label}")];
    if let Some(site) = t.alloc_survivors.iter().find(|s| is_app_site(&s.location)) {
        evidence.push(format!(
            "what it keeps was allocated in {} at {}",
            site.function, site.location
        ));
    }
    evidence.extend(t.evidence.iter().cloned());
    r.evidence = evidence;
    r.leak_in = Some(label.to_string());
}

/// A site in the application's code, not Node's internals or V8's.
fn is_app_site(location: &str) -> bool {
    !location.starts_with("node:") && !location.is_empty() && !location.starts_with('(')
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_report::run_schema::{AllocSiteOut, LeakKind};

    fn report(verdict: Verdict, bpr: f64) -> RunReport {
        RunReport {
            verdict,
            leak_kind: if verdict == Verdict::Leak {
                LeakKind::JsHeap
            } else {
                LeakKind::None
            },
            retained_bytes_per_request: bpr,
            target_pid: 42,
            evidence: vec![format!("{bpr} B/request")],
            ..Default::default()
        }
    }

    #[test]
    fn the_steepest_leak_leads() {
        let (leak, flat) = (Verdict::Leak, Verdict::NoLeak);
        // No thread leaks: the main isolate's verdict stands.
        assert_eq!(
            lead((flat, 0.0), &[(flat, 0.0), (Verdict::Inconclusive, 0.0)]),
            None
        );
        // The steepest of the leaking threads, not the first.
        assert_eq!(
            lead((flat, 0.0), &[(leak, 100.0), (flat, 900.0), (leak, 600.0)]),
            Some(2)
        );
        // A main isolate that leaks more steeply keeps the top level; a shallower one does not.
        assert_eq!(lead((leak, 800.0), &[(leak, 600.0)]), None);
        assert_eq!(lead((leak, 100.0), &[(leak, 600.0)]), Some(0));
    }

    #[test]
    fn a_leaking_thread_takes_over_the_top_level_and_is_named() {
        let mut r = report(Verdict::NoLeak, 1.0);
        let mut t = report(Verdict::Leak, 500.0);
        t.alloc_survivors = vec![
            AllocSiteOut {
                function: "parserOnHeadersComplete".into(),
                location: "node:_http_common:71".into(),
                ..Default::default()
            },
            AllocSiteOut {
                function: "(anonymous)".into(),
                location: "lib/w.js:6".into(),
                ..Default::default()
            },
        ];
        r.culprit = Some(leakhound_schema::culprit::CulpritOut {
            sentence: "the main isolate's".into(),
            ..Default::default()
        });
        t.culprit = Some(leakhound_schema::culprit::CulpritOut {
            sentence: "the thread's".into(),
            ..Default::default()
        });
        t.alloc_trees = Some(Default::default());
        take_over(&mut r, &t, "worker thread [worker 1] (lib/w.js) of pid 42");
        // The thread's culprit sentence and flame graph, not the main isolate's.
        assert_eq!(r.culprit.as_ref().unwrap().sentence, "the thread's");
        assert!(r.alloc_trees.is_some());
        assert_eq!(r.verdict, Verdict::Leak);
        assert_eq!(r.retained_bytes_per_request, 500.0);
        assert_eq!(
            r.evidence,
            [
                "the leak is in worker thread [worker 1] (lib/w.js) of pid 42",
                "what it keeps was allocated in (anonymous) at lib/w.js:6",
                "500 B/request"
            ]
        );
        assert_eq!(
            r.leak_in.as_deref(),
            Some("worker thread [worker 1] (lib/w.js) of pid 42")
        );
        assert_eq!(main_process(&report(Verdict::NoLeak, 1.0)).label, "pid 42");
    }
}
