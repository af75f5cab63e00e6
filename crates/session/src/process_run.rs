//! The loop's view of the followed processes: what it prints about them, whether any of
//! them leaks or all are flat (when to stop the rounds), and the end of the run (a restarted
//! worker named, every inspector closed).

use crate::process_verdicts::series;
use crate::processes::Processes;
use crate::progress::Progress;
use crate::state::State;
use crate::target::Target;
use crate::verdict::{assess, Phase, Sample, Thresholds, MIB};

/// "processes: primary, pid 1; worker 1 of 2, pid 2 …" when there is more than one.
pub(crate) fn tell_processes(procs: &Processes, progress: Progress<'_>) {
    if procs.list.len() < 2 {
        return;
    }
    let names: Vec<String> = procs
        .list
        .iter()
        .filter(|p| p.ins.is_some())
        .map(|p| {
            let serving = if p.serving { "" } else { " (not serving)" };
            format!("{}{serving}", p.label)
        })
        .collect();
    let mut line = format!(
        "following {} node processes: {}",
        names.len(),
        names.join("; ")
    );
    for p in procs.list.iter().filter(|p| p.unfollowed) {
        match (p.oom, &p.ended) {
            (false, Some(how)) => {
                line.push_str(&format!("; {} {how} before it could be followed", p.label))
            }
            _ => line.push_str(&format!(
                "; {} ran out of memory before it could be followed",
                p.label
            )),
        }
    }
    progress(&line);
}

/// One line per other process sampled at `t_s`, under the main process's line.
pub(crate) fn tell_others(procs: &Processes, t_s: f64, progress: Progress<'_>) {
    for (i, p) in procs.list.iter().enumerate() {
        if Some(i) == procs.main {
            continue;
        }
        if let Some(s) = p.samples.last().filter(|s| s.t_s == t_s) {
            progress(&format!(
                "{:>6} {:<8} {:>10}      heap {:>7.2} MiB  external {:>7.2} MiB  rss {:>7.1} MiB  {}",
                "",
                "",
                "",
                s.heap_used / MIB,
                s.external / MIB,
                s.rss / MIB,
                p.label
            ));
        }
    }
}

/// What the rounds so far say over every serving process.
pub(crate) struct Trend {
    /// A serving process leaks.
    pub(crate) leak: bool,
    /// Every serving process is flat.
    pub(crate) stable: bool,
    /// A serving process's heap nears its limit while growing.
    pub(crate) near_limit: bool,
}

/// The trend over the serving processes (for one process: the loop's own judgement), each on
/// the requests it served itself when `own_requests` (the built-in load), else on the run's
/// axis (`--load-cmd`: its units of work or time).
pub(crate) fn trend(
    procs: &Processes,
    th: &Thresholds,
    old_space: f64,
    own_requests: bool,
) -> Trend {
    let several = procs.serving() > 1 && own_requests;
    let mut t = Trend {
        leak: false,
        stable: true,
        near_limit: false,
    };
    for p in procs.list.iter().filter(|p| p.serving) {
        if p.ins.is_none() && p.samples.is_empty() {
            continue;
        }
        let load: Vec<Sample> = series(p, several)
            .0
            .into_iter()
            .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
            .collect();
        let a = assess(&load, th);
        let last = load.last().map_or(0.0, |s| s.heap_used);
        // V8's heap_size_limit adds the young generation to the old space; a leak dies when
        // the old space (--heap-mb) is full, so that is the limit to stay clear of.
        let limit = if p.heap_limit > 0.0 {
            p.heap_limit.min(old_space)
        } else {
            old_space
        };
        t.near_limit |= last > 0.7 * limit && a.heap.fit.is_some_and(|f| f.lo > 0.0);
        let rss = crate::rss_growth::rss_only(&load, th);
        t.leak |= a.leak().is_some() || rss;
        // A process that is gone no longer holds the rounds back.
        t.stable &= (a.stable() && !rss) || p.ins.is_none();
    }
    t
}

/// After the loop (and the wait for restarts, [`crate::restart_wait`]): tell which of the
/// dead ran out of memory, name the processes that replaced them, then detach from every
/// process.
pub(crate) async fn wind_up(st: &mut State, target: &mut Target) {
    // A process's inspector may close before its out-of-memory banner is read: the trace's
    // pid (`[4242:0x…]`) says which process it was, and names one never followed too.
    {
        let cap = target.captured.lock().unwrap();
        if st.procs.learn(&cap) > 0 {
            st.procs
                .classify(crate::target::port_owner(st.startup.port));
        }
        let dead: Vec<usize> = (0..st.procs.list.len())
            .filter(|&i| st.procs.list[i].exit.is_some() && !st.procs.list[i].oom)
            .collect();
        let lone = dead.len() == 1 && !st.procs.list.iter().any(|p| p.oom);
        for i in dead {
            let p = &mut st.procs.list[i];
            if cap.oom_deaths.ran_out(p.pid, cap.oom, lone) {
                p.oom = true;
                p.exit = Some("ran out of memory".into());
            }
        }
    }
    st.procs.note_restarts();
    st.procs.close_all().await;
}
