//! Allocation sampling and `--snapshots` in every serving process, not only the main one: a
//! [`Culprit`] per other serving process (its profiles prefixed `pid-N.`, its snapshots in a
//! `pid-N/` directory beside the main ones), driven at the same moments of the run. Each
//! process's findings go to its `processes[]` entry; the top level gets the leading
//! process's.

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
/// `processes[]` entry; when the leading process is another one, its findings go to the top.
pub(crate) fn fill(st: &State, r: &mut RunReport) {
    st.culprit.fill(r);
    let main_pid = st.procs.main.map(|i| st.procs.list[i].pid);
    let found = |r: &RunReport| !r.alloc_survivors.is_empty() || !r.suspects.is_empty();
    if let Some(p) = r.processes.iter_mut().find(|p| Some(p.pid) == main_pid) {
        p.alloc_survivors = r.alloc_survivors.clone();
        p.suspects = r.suspects.clone();
    }
    let mut described = main_pid;
    for (pid, c) in &st.other_culprits {
        let mut own = RunReport {
            command: r.command.clone(),
            ..Default::default()
        };
        c.fill(&mut own);
        if let Some(p) = r.processes.iter_mut().find(|p| p.pid == *pid) {
            p.alloc_survivors = own.alloc_survivors.clone();
            p.suspects = own.suspects.clone();
        }
        if r.target_pid == *pid && found(&own) {
            r.alloc_all = own.alloc_all;
            r.alloc_survivors = own.alloc_survivors;
            r.suspects = own.suspects;
            r.alloc_profiles = own.alloc_profiles;
            r.snapshots = own.snapshots;
            r.culprit_notes.extend(own.culprit_notes);
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
}
