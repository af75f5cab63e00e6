//! The verdict of each followed process, and of the run from them: every process is judged by
//! the same [`decide`] on its own observations (its samples; the requests its own servers
//! counted when several processes serve, else the run's total). A leak in any serving process
//! is the run's leak; the top level then describes the leaking process with the steepest
//! significant slope.

use leakhound_report::run_schema::{FitAxis, LeakKind, RunSample, Verdict};
use leakhound_schema::process::ProcessOut;

use crate::decide::{decide, Decision};
use crate::observations::Observations;
use crate::processes::{Followed, Processes};
use crate::verdict::{Sample, Thresholds};

/// One process's verdict.
pub(crate) struct Judged {
    pub(crate) index: usize,
    pub(crate) decision: Decision,
    pub(crate) obs: Observations,
    /// Its series is on the requests it served itself.
    pub(crate) own_requests: bool,
}

/// Judge every process that has samples, and every one that ran out of memory before it
/// could be followed (its death is a leak without samples); one that ended otherwise before
/// it was followed has nothing to judge (the report tells how it ended). `run` holds the run's observations
/// (the main process's samples); each process gets a copy with its own samples.
/// `threads` are the main process's worker threads: their heaps live in its RSS.
pub(crate) fn judge(
    run: &Observations,
    procs: &Processes,
    threads: &crate::threads::Threads,
    th: &Thresholds,
) -> Vec<Judged> {
    // On another axis than requests (`--load-cmd`, `--workload`) every process is judged on
    // the run's axis: its own request count would mix units with the run's thresholds.
    let several =
        procs.serving() > 1 && run.axis == leakhound_report::run_schema::FitAxis::Requests;
    procs
        .list
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.samples.is_empty() || (p.unfollowed && p.oom))
        .map(|(index, p)| {
            let (samples, own_requests) = series(p, several);
            let main = procs.main == Some(index);
            let mut obs = run.clone();
            obs.requests = samples.last().map_or(0, |s| s.requests);
            if own_requests {
                // Its share of the requests: the failure counts stay the run's.
                obs.rps = run.rps * obs.requests as f64 / run.requests.max(1) as f64;
            }
            obs.served = crate::time_shape::served_at(&samples, &p.samples, &p.own);
            obs.samples = samples;
            if p.heap_limit > 0.0 {
                obs.heap_limit = p.heap_limit;
            }
            if !main {
                // The run's ending is the main process's; another one's is its own.
                obs.oom = p.oom;
                obs.startup_oom = false;
                obs.died = p.exit.is_some() && !p.oom;
                obs.failure = None;
            } else if procs.list.iter().any(|q| q.oom && q.pid != p.pid) {
                // The out-of-memory death was another process's (the trace named it).
                obs.oom = p.oom;
            }
            let mut decision = decide(&obs, th);
            if main {
                let mut with_threads = obs.clone();
                with_threads.samples = threads.with_thread_heaps(&obs.samples);
                crate::rss_growth::apply(&mut decision, &with_threads, th);
            } else {
                crate::rss_growth::apply(&mut decision, &obs, th);
            }
            Judged {
                index,
                decision,
                obs,
                own_requests,
            }
        })
        .collect()
}

/// The samples of `p`, on its own request count when several processes serve and its
/// servers counted some.
pub(crate) fn series(p: &Followed, several: bool) -> (Vec<Sample>, bool) {
    let counted = p.own.last().copied().flatten().unwrap_or(0);
    if !several || counted == 0 || p.own.iter().any(Option::is_none) {
        return (p.samples.clone(), false);
    }
    let s = p
        .samples
        .iter()
        .zip(&p.own)
        .map(|(s, o)| Sample {
            requests: o.unwrap_or(0),
            ..*s
        })
        .collect();
    (s, true)
}

/// The process the run's top level describes: among serving processes with samples, the
/// leaking one with the steepest slope (one that ran out of memory first); else an
/// inconclusive one when the main process is flat; else the main process. `None` when the main
/// process is the one.
pub(crate) fn leader(judged: &[Judged], procs: &Processes) -> Option<usize> {
    let serving = |j: &&Judged| procs.list[j.index].serving && !j.obs.samples.is_empty();
    let steepest = judged
        .iter()
        .filter(serving)
        .filter(|j| j.decision.verdict == Verdict::Leak)
        .max_by(|a, b| {
            let key = |j: &Judged| {
                (
                    procs.list[j.index].oom,
                    j.decision.retained_bytes_per_request,
                )
            };
            let (ka, kb) = (key(a), key(b));
            ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
        });
    if let Some(j) = steepest {
        return Some(j.index);
    }
    let main = judged.iter().find(|j| Some(j.index) == procs.main)?;
    if main.decision.verdict != Verdict::NoLeak {
        return None;
    }
    judged
        .iter()
        .filter(serving)
        .find(|j| j.decision.verdict == Verdict::Inconclusive)
        .map(|j| j.index)
}

/// The names of the leaking serving processes, for the verdict's line.
pub(crate) fn leaking(judged: &[Judged], procs: &Processes) -> Vec<String> {
    judged
        .iter()
        .filter(|j| procs.list[j.index].serving && j.decision.verdict == Verdict::Leak)
        .map(|j| procs.list[j.index].label.clone())
        .collect()
}

/// `processes[]` of the report.
pub(crate) fn outs(judged: &[Judged], procs: &Processes) -> Vec<ProcessOut> {
    procs
        .list
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let j = judged.iter().find(|j| j.index == i);
            // The decision in the run's unit (bytes per second, unit of work, iteration on
            // a `--load-cmd` or `--workload` run), as the top level's.
            let unit_d = j.map(|j| {
                let mut d = j.decision.clone();
                crate::work_axis::apply(&mut d, &j.obs);
                d
            });
            let d = unit_d.as_ref();
            let requests_axis = j.is_none_or(|j| j.obs.axis == FitAxis::Requests);
            let samples = j.map_or(&p.samples[..], |j| &j.obs.samples[..]);
            let per_unit = d.filter(|d| d.fit.is_some()).map(|d| d.bytes_per_unit);
            ProcessOut {
                pid: p.pid,
                role: p.role,
                label: p.label.clone(),
                command: p.command.clone(),
                serving: p.serving,
                samples: samples.iter().map(run_sample).collect(),
                // Nothing judged: a process that ended before it was followed failed.
                verdict: d.map_or(
                    match p.unfollowed {
                        true => Verdict::TargetFailed,
                        false => Verdict::Inconclusive,
                    },
                    |d| d.verdict,
                ),
                leak_kind: d.map_or(LeakKind::None, |d| d.kind),
                retained_bytes_per_request: match requests_axis {
                    true => j
                        .filter(|j| !j.obs.samples.is_empty())
                        .map(|j| shown_slope(&j.decision)),
                    false => per_unit,
                },
                retained_bytes_per_request_ci: d
                    .and_then(|d| d.fit.as_ref())
                    .map(|f| [f.ci_low, f.ci_high]),
                fit: d.and_then(|d| d.fit.clone()),
                driver: per_unit.and(d.map(|d| d.driver)),
                retained_bytes_per_unit: per_unit,
                unit: per_unit.and(d.map(|d| d.driver.unit().to_string())),
                exit: p.exit.clone(),
                ..Default::default()
            }
        })
        .collect()
}

/// The slope a process's row shows: the decision's, or on an undecided process that grew
/// (still slowing, noisy) the fit's slope so far: a worker whose heap grew 12 MiB is not
/// "0 B/request" (its verdict says it is undecided).
pub(crate) fn shown_slope(d: &Decision) -> f64 {
    match (d.verdict, &d.fit) {
        (Verdict::Inconclusive, Some(f)) if d.retained_bytes_per_request == 0.0 => f.slope.max(0.0),
        _ => d.retained_bytes_per_request,
    }
}

/// What the report says about the processes besides the table: which one is described, and
/// on which requests each was regressed.
pub(crate) fn sentences(judged: &[Judged], procs: &Processes) -> (Vec<String>, Vec<String>) {
    let mut evidence = Vec::new();
    let mut warnings = Vec::new();
    if procs.list.len() < 2 {
        return (evidence, warnings);
    }
    let names = leaking(judged, procs);
    if !names.is_empty() {
        evidence.push(format!("leaking: {}", names.join("; ")));
    }
    for p in procs.list.iter().filter(|p| p.exit.is_some()) {
        evidence.push(format!(
            "{} {}",
            p.label,
            p.exit.as_deref().unwrap_or_default()
        ));
        if p.unfollowed && p.oom {
            warnings.push(format!(
                "{} ran out of memory before leakhound could follow it: it is known from V8's out-of-memory trace (its pid) and has no samples",
                p.label
            ));
        } else if p.unfollowed {
            warnings.push(format!(
                "{} {} before leakhound could follow it: it is known from its cluster primary's exit event and has no samples",
                p.label,
                p.ended.as_deref().unwrap_or("exited")
            ));
        }
    }
    // On another axis (`--load-cmd`, `--workload`) every process is on the run's axis: nothing
    // to tell about requests.
    let requests = judged
        .iter()
        .all(|j| j.obs.axis == leakhound_report::run_schema::FitAxis::Requests);
    if procs.serving() > 1 && requests {
        let own: Vec<&str> = judged
            .iter()
            .filter(|j| j.own_requests)
            .map(|j| procs.list[j.index].label.as_str())
            .collect();
        let total: Vec<&str> = judged
            .iter()
            .filter(|j| !j.own_requests && procs.list[j.index].serving)
            .filter(|j| !j.obs.samples.is_empty())
            .map(|j| procs.list[j.index].label.as_str())
            .collect();
        if !own.is_empty() {
            warnings.push(format!(
                "requests per process: {} regressed on the requests its own HTTP server counted",
                own.join("; ")
            ));
        }
        if !total.is_empty() {
            warnings.push(format!(
                "{} regressed on the run's total requests (it counted none of its own)",
                total.join("; ")
            ));
        }
    }
    (evidence, warnings)
}

fn run_sample(s: &Sample) -> RunSample {
    RunSample {
        t_s: s.t_s,
        requests: s.requests,
        heap_used: s.heap_used as u64,
        external: s.external as u64,
        array_buffers: s.array_buffers as u64,
        rss: s.rss as u64,
        phase: s.phase,
    }
}

#[cfg(test)]
#[path = "process_verdicts_tests.rs"]
mod tests;
