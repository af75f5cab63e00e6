//! The loop's view of the followed processes: what it prints about them, whether any of
//! them leaks or all are flat (when to stop the rounds), and the end of the run (a restarted
//! worker named, every inspector closed).

use crate::process_verdicts::series;
use crate::processes::Processes;
use crate::progress::Progress;
use crate::shape::{shape, Shape};
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
        let near = last > 0.7 * limit;
        t.near_limit |= near && a.heap.fit.is_some_and(|f| f.lo > 0.0);
        let rss = crate::rss_growth::rss_only(&load, th);
        // Growth still slowing down is no leak yet, as for one process ([`crate::checkpoint`]):
        // [`crate::decide`] reads it as a cache filling, so stopping on it ends the run
        // inconclusive (a cluster worker's warm-up and its Map's doubling bend its first
        // rounds); the rounds go on until it stops slowing or nears the heap's limit.
        let slowing = own_requests
            && !near
            && matches!(shape(&load, |s| s.heap_used, th), Shape::Slowing { .. });
        t.leak |= (a.leak().is_some() && !slowing) || rss;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processes::Followed;

    /// Worker `pid` with its samples: (requests it served, heap used); the run's total is
    /// twice its own.
    fn worker(pid: u32, seen: &[(u64, f64)]) -> Followed {
        let mut p = Followed::new(pid, 0);
        p.serving = true;
        for (i, &(own, heap)) in seen.iter().enumerate() {
            p.samples.push(Sample {
                t_s: i as f64,
                requests: 2 * own,
                heap_used: heap,
                external: MIB,
                array_buffers: 0.0,
                rss: 60.0 * MIB,
                phase: if i == 0 { Phase::Warmup } else { Phase::Load },
            });
            p.own.push(Some(own));
        }
        p
    }

    /// The two workers of a reproduction of the CI rehearsal's failure (cluster-orders.js,
    /// its Map shifted to double at the second round): ~560 B/request each, but the warm-up's
    /// extra and the 16,384-entry doubling bend both series ("689 → 521 B/request").
    const ONE: [(u64, f64); 7] = [
        (3248, 6535568.0),
        (6542, 8534792.0),
        (7934, 9681400.0),
        (10956, 11479944.0),
        (13318, 12775224.0),
        (15851, 14221392.0),
        (16901, 14726160.0),
    ];
    const TWO: [(u64, f64); 7] = [
        (3634, 6738136.0),
        (6208, 8317488.0),
        (8309, 9897288.0),
        (11094, 11509712.0),
        (13622, 12919328.0),
        (17005, 14828496.0),
        (18783, 15762912.0),
    ];

    fn procs(one: &[(u64, f64)], two: &[(u64, f64)]) -> Processes {
        let mut procs = Processes::default();
        procs.list = vec![worker(11, one), worker(12, two)];
        procs
    }

    /// `seen` and `rounds` more rounds of 2,500 requests at 560 B/request (±30 KiB).
    fn more(seen: &[(u64, f64)], rounds: usize) -> Vec<(u64, f64)> {
        let mut v = seen.to_vec();
        for i in 0..rounds {
            let &(r, h) = v.last().unwrap();
            let jitter = [20.0, -30.0, 10.0, 25.0, -15.0, 0.0, -20.0, 30.0][i % 8] * 1024.0;
            v.push((r + 2500, h + 560.0 * 2500.0 + jitter));
        }
        v
    }

    #[test]
    fn a_cluster_whose_workers_still_bend_is_no_leak_yet_and_one_once_they_stop() {
        let th = Thresholds::default();
        let old_space = 128.0 * MIB;
        // The old rule stopped here on a leak, which the decision then read as slowing.
        let p = procs(&ONE, &TWO);
        let (load, _) = series(&p.list[0], true);
        assert!(assess(&load, &th).leak().is_some());
        assert!(matches!(
            shape(&load, |s| s.heap_used, &th),
            Shape::Slowing { .. }
        ));
        assert!(!trend(&p, &th, old_space, true).leak);
        // On the run's axis (a load command) the shape is not judged here.
        assert!(trend(&p, &th, old_space, false).leak);
        // Rounds later the bend has left the recent samples: a leak.
        let p = procs(&more(&ONE, 6), &more(&TWO, 6));
        let (load, _) = series(&p.list[0], true);
        assert_eq!(shape(&load, |s| s.heap_used, &th), Shape::Steady);
        assert!(trend(&p, &th, old_space, true).leak);
    }

    /// Still bending, the worker is undecided: its row shows the slope so far, not 0.
    #[test]
    fn an_undecided_worker_shows_its_slope_so_far() {
        use crate::observations::Observations;
        use leakhound_report::run_schema::Verdict;
        let (samples, _) = series(&worker(11, &ONE), true);
        let obs = Observations::served(samples);
        let d = crate::decide::decide(&obs, &Thresholds::default());
        assert_eq!(d.verdict, Verdict::Inconclusive, "{:?}", d.finding);
        assert_eq!(d.retained_bytes_per_request, 0.0);
        let shown = crate::process_verdicts::shown_slope(&d);
        assert!((500.0..700.0).contains(&shown), "{shown}");
    }
}
