use leakhound_schema::process::ProcessRole;

use super::*;

/// A followed process: `seq` in discovery order, a cluster worker when `worker` is given,
/// `answered_among` processes discovered when it last answered.
fn proc(pid: u32, ppid: u32, seq: usize, worker: Option<&str>, answered_among: usize) -> Followed {
    Followed {
        pid,
        ppid: Some(ppid),
        ins: None,
        worker_id: worker.map(str::to_string),
        role: ProcessRole::Worker,
        serving: true,
        label: String::new(),
        command: vec!["/usr/bin/node".into(), "cluster.js".into()],
        samples: Vec::new(),
        own: Vec::new(),
        heap_limit: 0.0,
        oom: false,
        exit: None,
        seq,
        answered_among,
        gone_at: None,
        born: None,
        died_among: None,
        unfollowed: false,
        ended: None,
    }
}

/// `p`, the `born`th process of the target to announce itself.
fn born(mut p: Followed, born: usize) -> Followed {
    p.born = Some(born);
    p
}

/// `p`, known only from its out-of-memory trace, read after `announced` processes had
/// announced themselves.
fn unfollowed(mut p: Followed, announced: usize) -> Followed {
    die(&mut p);
    p.unfollowed = true;
    p.died_among = Some(announced);
    p
}

fn die(p: &mut Followed) {
    p.oom = true;
    p.exit = Some("ran out of memory".into());
}

fn died(mut p: Followed) -> Followed {
    die(&mut p);
    p
}

/// A primary (pid 10, under leakhound's pid 1) and two workers, all met at the start and
/// answering up to the third sample.
fn cluster() -> Vec<Followed> {
    vec![
        proc(10, 1, 0, None, 3),
        proc(11, 10, 1, Some("1"), 3),
        proc(12, 10, 2, Some("2"), 3),
    ]
}

#[test]
fn a_replacement_met_in_the_sample_that_found_the_death_is_named() {
    // The CI rehearsal's race: the loop discovers banners before it samples, so the new worker
    // (seq 3) was met in the very sample that found worker 12 gone. Matched on when worker 12
    // last answered (3 processes known), it is the replacement; matched on the count when the
    // death was noticed (4), as before, it was not.
    let mut list = cluster();
    die(&mut list[2]);
    list.push(proc(13, 10, 3, Some("3"), 4));
    assert_eq!(replacements(&list), vec![(2, 3)]);
    let mut procs = Processes::default();
    procs.list = list;
    procs.note_restarts();
    assert_eq!(
        procs.list[2].exit.as_deref(),
        Some("ran out of memory; restarted as pid 13")
    );
    // Once named, naming again changes nothing.
    procs.note_restarts();
    assert_eq!(
        procs.list[2].exit.as_deref(),
        Some("ran out of memory; restarted as pid 13")
    );
    assert_eq!(procs.list[1].exit, None);
}

#[test]
fn the_other_original_worker_is_never_the_replacement() {
    let mut list = cluster();
    die(&mut list[2]);
    assert!(replacements(&list).is_empty());
    // Even when worker 11 was met late (its inspector answered only on a retry, after worker
    // 12 last answered), its lower cluster id says it was forked before.
    list[1].seq = 3;
    assert!(replacements(&list).is_empty());
}

#[test]
fn two_deaths_take_one_replacement_each_in_order() {
    let list = vec![
        proc(10, 1, 0, None, 5),
        died(proc(11, 10, 1, Some("1"), 3)),
        died(proc(12, 10, 2, Some("2"), 3)),
        proc(13, 10, 3, Some("3"), 5),
        proc(14, 10, 4, Some("4"), 5),
    ];
    assert_eq!(replacements(&list), vec![(1, 3), (2, 4)]);
}

#[test]
fn a_cluster_worker_does_not_replace_a_plain_child() {
    let mut list = vec![proc(10, 1, 0, None, 2), died(proc(11, 10, 1, None, 2))];
    list.push(proc(12, 10, 2, Some("1"), 3));
    assert!(replacements(&list).is_empty());
    // A plain child forked again by its launcher is.
    list.push(proc(13, 10, 3, None, 4));
    assert_eq!(replacements(&list), vec![(1, 3)]);
}

#[test]
fn only_a_death_under_a_followed_living_parent_is_worth_waiting_for() {
    let mut list = cluster();
    die(&mut list[2]);
    assert_eq!(unreplaced(&list, |_| true), vec![2]);
    // The primary is gone: nobody will restart the worker.
    assert!(unreplaced(&list, |pid| pid != 10).is_empty());
    // Once the replacement is met there is nothing left to wait for.
    list.push(proc(13, 10, 3, Some("3"), 4));
    assert!(unreplaced(&list, |_| true).is_empty());
    // A lone server that died under leakhound itself (pid 1 is not followed): no wait.
    let lone = vec![died(proc(20, 1, 0, None, 1))];
    assert!(unreplaced(&lone, |_| true).is_empty());
}

#[test]
fn a_worker_that_died_before_it_was_followed_is_replaced_by_one_started_after_its_death() {
    // The CI rehearsal at 9ba1b9b: worker 12 (cluster id 2) ran out of memory during the
    // warm-up before leakhound reached it. Worker 11 was followed from the start, worker 13 was
    // started after the death; worker 12 is known from its trace and its preload's line only,
    // learned last (seq 4).
    let dead = || born(unfollowed(proc(12, 10, 3, Some("2"), 0), 3), 2);
    let mut list = vec![
        born(proc(10, 1, 0, None, 5), 0),
        born(proc(11, 10, 1, Some("1"), 5), 1),
        dead(),
    ];
    // Before worker 13 announced itself, its death is worth waiting for.
    assert!(replacements(&list).is_empty());
    assert_eq!(unreplaced(&list, |_| true), vec![2]);
    list.insert(2, born(proc(13, 10, 2, Some("3"), 5), 3));
    assert_eq!(replacements(&list), vec![(3, 2)]);
    assert!(unreplaced(&list, |_| true).is_empty());
    let mut procs = Processes::default();
    procs.list = list;
    procs.note_restarts();
    assert_eq!(
        procs.list[3].exit.as_deref(),
        Some("ran out of memory; restarted as pid 13")
    );
}

#[test]
fn the_other_original_worker_never_replaces_a_worker_that_was_not_followed() {
    // Worker 12 (cluster id 1) died before it was followed; worker 11 has a higher cluster id
    // and was met later, but it announced itself before the death: it is no replacement.
    let list = vec![
        born(proc(10, 1, 0, None, 5), 0),
        born(proc(11, 10, 1, Some("2"), 5), 2),
        born(unfollowed(proc(12, 10, 2, Some("1"), 0), 3), 1),
    ];
    assert!(replacements(&list).is_empty());
    // Without its preload's line, a process cannot be placed after the death.
    let mut list = list;
    list.push(proc(13, 10, 3, Some("3"), 5));
    assert!(replacements(&list).is_empty());
}

#[test]
fn the_start_order_decides_for_a_followed_worker_the_trace_named() {
    // Worker 11 was met late (a retry) and worker 12 last answered before that, so by
    // discovery order 11 could pass for 12's replacement; the trace says 12 died after 11
    // announced itself (and its cluster id is no help: unknown).
    let mut list = cluster();
    list[1].worker_id = Some("?".into());
    list[1].seq = 3;
    die(&mut list[2]);
    list[2].died_among = Some(3);
    let mut list: Vec<Followed> = list
        .into_iter()
        .zip([0, 1, 2])
        .map(|(p, b)| born(p, b))
        .collect();
    list[2].worker_id = Some("?".into());
    assert!(replacements(&list).is_empty());
    list.push(born(proc(13, 10, 4, Some("?"), 5), 3));
    assert_eq!(replacements(&list), vec![(2, 3)]);
}
