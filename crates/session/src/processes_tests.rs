use crate::oom_deaths::OomDeaths;
use crate::preload::Started;

use super::*;

fn started(pid: u32, ppid: u32, worker: Option<&str>) -> Started {
    Started {
        pid,
        heap_limit: 50e6,
        ppid: Some(ppid),
        worker: worker.map(str::to_string),
    }
}

/// The target's output after `lines` on stderr: a cluster's primary (10) and workers 11 and 12
/// announced themselves, then worker 12's out-of-memory trace, then its replacement 13.
fn captured(lines: &[String]) -> Captured {
    let mut c = Captured {
        started: vec![
            started(10, 1, None),
            started(11, 10, Some("1")),
            started(12, 10, Some("2")),
        ],
        ..Default::default()
    };
    let mut deaths = OomDeaths::default();
    for l in lines {
        deaths.push_line(l, c.started.len());
    }
    c.oom_deaths = deaths;
    c.started.push(started(13, 10, Some("3")));
    c
}

fn trace(pid: u32) -> Vec<String> {
    vec![
        "<--- Last few GCs --->".into(),
        format!("[{pid}:0x1d2d4c60]       85 ms: Mark-Compact 19.1 (27.7) -> 17.5 (35.0) MB"),
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory".into(),
    ]
}

/// The primary and worker 11 followed, as met at the start.
fn followed() -> Processes {
    let mut procs = Processes::default();
    for (pid, worker) in [(10, None), (11, Some("1"))] {
        let mut p = Followed::new(pid, procs.list.len());
        p.ppid = Some(if pid == 10 { 1 } else { 10 });
        p.worker_id = worker.map(str::to_string);
        procs.list.push(p);
    }
    procs.classify(Some(10));
    procs
}

/// Worker 13, the replacement forked after worker 12's death, now followed.
fn follow_replacement(procs: &mut Processes) {
    let mut new = Followed::new(13, 3);
    new.ppid = Some(10);
    new.worker_id = Some("3".into());
    procs.list.push(new);
}

#[test]
fn a_worker_that_ran_out_of_memory_before_it_was_followed_is_learned_from_its_trace() {
    let mut procs = followed();
    let cap = captured(&trace(12));
    assert_eq!(procs.learn(&cap), 1);
    // Learned once.
    assert_eq!(procs.learn(&cap), 0);
    assert_eq!(procs.list.len(), 3);
    let dead = &procs.list[2];
    assert_eq!(dead.pid, 12);
    assert!(dead.unfollowed && dead.oom && dead.ins.is_none() && dead.samples.is_empty());
    assert_eq!(dead.exit.as_deref(), Some("ran out of memory"));
    assert_eq!(
        (dead.ppid, dead.worker_id.as_deref()),
        (Some(10), Some("2"))
    );
    assert_eq!((dead.born, dead.died_among), (Some(2), Some(3)));
    assert_eq!(procs.list[1].born, Some(1));
    // A worker numbered on, not one of the workers followed together.
    procs.classify(Some(10));
    assert_eq!(procs.list[1].label, "worker 1 of 1, pid 11");
    assert_eq!(procs.list[2].role, ProcessRole::Worker);
    assert_eq!(procs.list[2].label, "worker 2, pid 12");
    // Its replacement, started after the death, is named once it is followed.
    follow_replacement(&mut procs);
    procs.learn(&cap);
    assert_eq!(procs.list[3].born, Some(3));
    procs.note_restarts();
    assert_eq!(
        procs.list[2].exit.as_deref(),
        Some("ran out of memory; restarted as pid 13")
    );
}

#[test]
fn a_followed_process_the_trace_names_is_not_learned_again() {
    let mut procs = followed();
    assert_eq!(procs.learn(&captured(&trace(11))), 0);
    assert_eq!(procs.list.len(), 2);
    assert_eq!(procs.list[1].died_among, Some(3));
    assert!(procs.list[1].exit.is_none(), "its own sample finds it gone");
}

#[test]
fn a_pid_that_never_announced_itself_is_not_taken_for_a_process_of_the_target() {
    let mut procs = followed();
    assert_eq!(procs.learn(&captured(&trace(99))), 0);
    assert_eq!(procs.list.len(), 2);
}

#[test]
fn nothing_is_learned_before_a_process_is_followed() {
    // A target that ran out of memory while starting is a failed target.
    let mut procs = Processes::default();
    assert_eq!(procs.learn(&captured(&trace(10))), 0);
    assert!(procs.list.is_empty());
}

/// The output of `captured(&[])` with worker 12's exit reported by its primary before its
/// replacement 13 announced itself.
fn exited(pid: u32, code: Option<i32>, signal: Option<&str>) -> Captured {
    let mut c = captured(&[]);
    let announced = c.started.len() - 1;
    c.exits.push((
        crate::preload::Exited {
            pid,
            code,
            signal: signal.map(str::to_string),
        },
        announced,
    ));
    c
}

#[test]
fn a_worker_that_crashed_before_it_was_followed_is_learned_from_its_primarys_exit_line() {
    let mut procs = followed();
    let cap = exited(12, Some(1), None);
    assert_eq!(procs.learn(&cap), 1);
    assert_eq!(procs.learn(&cap), 0, "learned once");
    let dead = &procs.list[2];
    assert_eq!(dead.pid, 12);
    assert!(dead.unfollowed && !dead.oom && dead.samples.is_empty());
    assert_eq!(
        dead.exit.as_deref(),
        Some("exited with code 1 before it was followed")
    );
    assert_eq!((dead.born, dead.died_among), (Some(2), Some(3)));
    procs.classify(Some(10));
    assert_eq!(procs.list[2].label, "worker 2, pid 12");
    // Its replacement announced itself after the exit line.
    follow_replacement(&mut procs);
    procs.learn(&cap);
    procs.note_restarts();
    assert_eq!(
        procs.list[2].exit.as_deref(),
        Some("exited with code 1 before it was followed; restarted as pid 13")
    );
}

#[test]
fn a_followed_worker_that_exits_is_told_with_its_code_or_signal() {
    // The exit line first, then the sample that finds it gone.
    let mut procs = followed();
    assert_eq!(procs.learn(&exited(11, None, Some("SIGKILL"))), 0);
    assert_eq!(procs.list[1].died_among, Some(3));
    assert!(procs.list[1].exit.is_none(), "its own sample finds it gone");
    futures_util::FutureExt::now_or_never(procs.gone(1, false)).unwrap();
    assert_eq!(
        procs.list[1].exit.as_deref(),
        Some("was killed by SIGKILL during the run")
    );
    // The sample first, then the exit line.
    let mut procs = followed();
    futures_util::FutureExt::now_or_never(procs.gone(1, false)).unwrap();
    assert_eq!(procs.list[1].exit.as_deref(), Some("exited during the run"));
    procs.learn(&exited(11, Some(0), None));
    assert_eq!(
        procs.list[1].exit.as_deref(),
        Some("exited with code 0 during the run")
    );
}

#[test]
fn a_worker_that_ran_out_of_memory_is_told_of_by_its_trace_not_its_exit_line() {
    let mut procs = followed();
    let mut cap = captured(&trace(12));
    cap.exits.push((
        crate::preload::Exited {
            pid: 12,
            code: None,
            signal: Some("SIGABRT".into()),
        },
        3,
    ));
    assert_eq!(procs.learn(&cap), 1);
    assert_eq!(procs.list[2].exit.as_deref(), Some("ran out of memory"));
    assert!(procs.list[2].oom);
}
