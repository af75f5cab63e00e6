//! Allocation sampling and `--snapshots` in every serving process, not only the main one: a
//! [`Culprit`] per other serving process (its profiles prefixed `pid-N.`, its snapshots in a
//! `pid-N/` directory beside the main ones), driven at the same moments of the run. Each
//! process's findings go to its `processes[]` entry; the top level gets the leading
//! process's: its sites, suspects, flame graph and culprit sentence (decided on that
//! process's own verdict and slope, so a leak in a cluster worker names the worker's line).

use leakhound_report::run_schema::RunReport;

use crate::culprit::{Culprit, CulpritOptions};
use crate::processes::Processes;
use crate::progress::Progress;
use crate::state::State;

/// When in the run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At {
    BeforeWarmup,
    AfterWarmup,
    AfterLoad,
    AfterIdle,
}

/// A culprit for each serving process other than the main one.
pub(crate) fn for_others(opts: &CulpritOptions, procs: &Processes) -> Vec<(u32, Culprit)> {
    procs
        .list
        .iter()
        .enumerate()
        .filter(|&(i, p)| Some(i) != procs.main && p.serving && p.ins.is_some())
        .filter_map(|(_, p)| {
            let mut o = opts.clone();
            o.profile_prefix = format!("{}pid-{}.", o.profile_prefix, p.pid);
            o.snapshots_dir = o.snapshots_dir.map(|d| d.join(format!("pid-{}", p.pid)));
            o.prepare().ok()?;
            Some((p.pid, Culprit::new(&o)))
        })
        .collect()
}

/// Run the culprit step `at` in the main process, then in the others.
pub(crate) async fn step(st: &mut State, at: At, progress: Progress<'_>) {
    let main = st.procs.main_inspector();
    drive(&mut st.culprit, main, at, progress).await;
    for (pid, c) in st.other_culprits.iter_mut() {
        let ins = st
            .procs
            .list
            .iter()
            .find(|p| p.pid == *pid)
            .and_then(|p| p.ins.as_ref());
        drive(c, ins, at, progress).await;
    }
    // The serving process's worker threads (crate::threads).
    let threads = &mut st.threads;
    match at {
        At::BeforeWarmup => threads.before_warmup(main, progress).await,
        At::AfterWarmup => threads.after_warmup(progress).await,
        At::AfterLoad => threads.after_load(progress).await,
        At::AfterIdle => threads.after_idle(progress).await,
    }
}

async fn drive(
    c: &mut Culprit,
    ins: Option<&leakhound_inspector::Inspector>,
    at: At,
    progress: Progress<'_>,
) {
    match at {
        At::BeforeWarmup => c.before_warmup(ins, progress).await,
        At::AfterWarmup => c.after_warmup(ins, progress).await,
        At::AfterLoad => c.after_load(ins, progress).await,
        At::AfterIdle => c.after_idle(ins, progress).await,
    }
}

/// After the target is gone (or the run was interrupted): save and compare. Whether `stop` (Ctrl-C / SIGTERM after the run) cut a snapshot comparison short.
pub(crate) async fn finish(
    st: &mut State,
    interrupted: bool,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    progress: Progress<'_>,
) -> bool {
    let mut stopped = st.threads.finish(interrupted, stop, progress).await;
    for c in std::iter::once(&mut st.culprit).chain(st.other_culprits.iter_mut().map(|o| &mut o.1))
    {
        if interrupted {
            c.abandon();
        } else {
            stopped |= c.finish(stop, progress).await;
        }
    }
    stopped
}

/// Fill the report: the main culprit's findings at the top level, each process's own in its
/// `processes[]` entry; when the leading process is another one, its findings go to the top
/// (its culprit sentence, flame graph and all). Returns the pid whose findings the top level
/// holds, for the library patterns ([`described`]).
pub(crate) fn fill(st: &State, r: &mut RunReport) -> Option<u32> {
    st.culprit.fill(r);
    let main_pid = st.procs.main.map(|i| st.procs.list[i].pid);
    if let Some(p) = r.processes.iter_mut().find(|p| Some(p.pid) == main_pid) {
        p.alloc_survivors = r.alloc_survivors.clone();
        p.suspects = r.suspects.clone();
    }
    let mut described = main_pid;
    for (pid, c) in &st.other_culprits {
        let mut own = own_report(r, *pid);
        c.fill(&mut own);
        if let Some(p) = r.processes.iter_mut().find(|p| p.pid == *pid) {
            p.alloc_survivors = own.alloc_survivors.clone();
            p.suspects = own.suspects.clone();
        }
        if r.target_pid == *pid && found(&own) {
            take_findings(r, own);
            described = Some(*pid);
        }
    }
    if st.procs.list.len() > 1 && found(r) {
        let label = |pid| st.procs.list.iter().find(|p| Some(p.pid) == pid);
        if let Some(p) = label(described) {
            let others = st.other_culprits.len();
            let also = if others > 0 {
                format!(" ({others} other serving processes were sampled too: see processes[])")
            } else {
                String::new()
            };
            r.culprit_notes.push(format!(
                "allocation sites and snapshots above are from {}{also}",
                p.label
            ));
        }
    }
    described
}

/// The culprit whose findings the top level holds: the leading worker thread's, else the
/// process [`fill`] described.
pub(crate) fn described(st: &State, pid: Option<u32>, lead_thread: Option<usize>) -> &Culprit {
    if let Some(t) = lead_thread.and_then(|i| st.threads.list.get(i)) {
        return &t.culprit;
    }
    st.other_culprits
        .iter()
        .find(|(p, _)| Some(*p) == pid)
        .map_or(&st.culprit, |(_, c)| c)
}

fn found(r: &RunReport) -> bool {
    !r.alloc_survivors.is_empty() || !r.suspects.is_empty()
}

/// The report another process's culprit fills: the run's command, and that process's own
/// verdict and slope from `processes[]` (the culprit sentence says how much it grows per
/// request it served, and only a process that did not stay flat gets one).
fn own_report(r: &RunReport, pid: u32) -> RunReport {
    let mut own = RunReport {
        command: r.command.clone(),
        ..Default::default()
    };
    if let Some(p) = r.processes.iter().find(|p| p.pid == pid) {
        own.verdict = p.verdict;
        own.leak_kind = p.leak_kind;
        own.retained_bytes_per_request = p.retained_bytes_per_request.unwrap_or(0.0);
    }
    if r.target_pid == pid {
        // The leading process: the top level's figures are its own.
        own.verdict = r.verdict;
        own.retained_bytes_per_request = r.retained_bytes_per_request;
        own.retained_bytes_per_unit = r.retained_bytes_per_unit;
        own.unit = r.unit.clone();
    }
    own
}

/// The leading process's findings replace the main process's at the top level.
fn take_findings(r: &mut RunReport, own: RunReport) {
    r.alloc_all = own.alloc_all;
    r.alloc_survivors = own.alloc_survivors;
    r.alloc_trees = own.alloc_trees;
    r.alloc_sampling_interval = own.alloc_sampling_interval.or(r.alloc_sampling_interval);
    r.suspects = own.suspects;
    r.culprit = own.culprit;
    r.source_excerpts = own.source_excerpts;
    r.alloc_profiles = own.alloc_profiles;
    r.snapshots = own.snapshots;
    r.culprit_notes.extend(own.culprit_notes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_report::run_schema::{AllocSiteOut, Verdict};
    use leakhound_schema::culprit::CulpritOut;
    use leakhound_schema::process::ProcessOut;

    fn process(pid: u32, verdict: Verdict, bpr: f64) -> ProcessOut {
        ProcessOut {
            pid,
            verdict,
            retained_bytes_per_request: Some(bpr),
            ..Default::default()
        }
    }

    fn top() -> RunReport {
        RunReport {
            command: vec!["node".into(), "cluster.js".into()],
            target_pid: 12,
            verdict: Verdict::Leak,
            retained_bytes_per_request: 512.0,
            processes: vec![
                process(10, Verdict::NoLeak, 0.0),
                process(11, Verdict::Inconclusive, 40.0),
                process(12, Verdict::Leak, 500.0),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn another_process_is_filled_with_its_own_verdict_and_slope() {
        let r = top();
        let w = own_report(&r, 11);
        assert_eq!(w.command, r.command);
        assert_eq!(w.verdict, Verdict::Inconclusive);
        assert_eq!(w.retained_bytes_per_request, 40.0);
        // The leading process takes the top level's figures (they are its own).
        let lead = own_report(&r, 12);
        assert_eq!(lead.verdict, Verdict::Leak);
        assert_eq!(lead.retained_bytes_per_request, 512.0);
        // A pid the run does not list stays undecided, without a slope.
        let gone = own_report(&r, 99);
        assert_eq!(gone.verdict, Verdict::Inconclusive);
        assert_eq!(gone.retained_bytes_per_request, 0.0);
    }

    #[test]
    fn the_leading_process_brings_its_culprit_and_flame_graph_to_the_top() {
        let mut r = top();
        r.culprit = Some(CulpritOut {
            sentence: "the primary's".into(),
            ..Default::default()
        });
        r.alloc_sampling_interval = Some(32768);
        let own = RunReport {
            alloc_survivors: vec![AllocSiteOut {
                function: "rememberRequest".into(),
                location: "handler.js:11".into(),
                ..Default::default()
            }],
            alloc_trees: Some(Default::default()),
            culprit: Some(CulpritOut {
                sentence: "the worker's".into(),
                ..Default::default()
            }),
            culprit_notes: vec!["worker note".into()],
            ..Default::default()
        };
        assert!(found(&own));
        take_findings(&mut r, own);
        assert_eq!(r.culprit.unwrap().sentence, "the worker's");
        assert_eq!(r.alloc_survivors[0].location, "handler.js:11");
        assert!(r.alloc_trees.is_some());
        assert_eq!(r.alloc_sampling_interval, Some(32768));
        assert_eq!(r.culprit_notes, ["worker note"]);
        assert!(!found(&RunReport::default()));
    }
}
