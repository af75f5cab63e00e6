use leakhound_schema::process::ProcessRole;

use super::*;
use crate::culprit_options::CulpritOptions;
use crate::threads::Threads;
use crate::verdict::{Phase, MIB};

fn sample(i: usize, heap: f64) -> Sample {
    let phase = match i {
        0 => Phase::Baseline,
        1 => Phase::Warmup,
        _ => Phase::Load,
    };
    Sample {
        t_s: i as f64,
        requests: i as u64 * 2000,
        heap_used: heap,
        external: MIB,
        array_buffers: 0.0,
        rss: 60.0 * MIB,
        phase,
    }
}

/// A cluster worker followed from the start whose heap stays flat (pid 11, the main process),
/// and worker 12, dead of running out of memory before it could be followed.
fn cluster() -> (Observations, Processes) {
    let samples: Vec<Sample> = (0..10).map(|i| sample(i, 20.0 * MIB)).collect();
    let mut procs = Processes::default();
    let mut main = Followed::new(11, 0);
    main.role = ProcessRole::Worker;
    main.serving = true;
    main.label = "worker 1 of 1, pid 11".into();
    main.own = vec![None; samples.len()];
    main.samples = samples.clone();
    let mut dead = Followed::new(12, 1);
    dead.role = ProcessRole::Worker;
    dead.serving = true;
    dead.label = "worker 2, pid 12".into();
    dead.unfollowed = true;
    dead.oom = true;
    dead.exit = Some("ran out of memory; restarted as pid 11".into());
    procs.list = vec![main, dead];
    procs.main = Some(0);
    let run = Observations {
        requests: samples.last().unwrap().requests,
        samples,
        // The target's output said a process ran out of memory: worker 12.
        oom: true,
        heap_mb: 32,
        ..Observations::default()
    };
    (run, procs)
}

#[test]
fn a_worker_that_died_before_it_was_followed_is_the_leak_and_the_living_one_is_not() {
    let (run, procs) = cluster();
    let judged = judge(
        &run,
        &procs,
        &Threads::new(&CulpritOptions::default()),
        &Thresholds::default(),
    );
    assert_eq!(judged.len(), 2);
    let dead = judged.iter().find(|j| j.index == 1).unwrap();
    assert_eq!(dead.decision.verdict, Verdict::Leak);
    assert_eq!(dead.decision.kind, LeakKind::JsHeap);
    // The flat worker is judged on its own ending, not on the other one's death.
    let main = judged.iter().find(|j| j.index == 0).unwrap();
    assert_ne!(main.decision.verdict, Verdict::Leak);
    assert_eq!(
        leaking(&judged, &procs),
        vec!["worker 2, pid 12".to_string()]
    );
    // Without samples it cannot be what the top level describes.
    assert_ne!(leader(&judged, &procs), Some(1));
    let outs = outs(&judged, &procs);
    assert_eq!(outs[1].verdict, Verdict::Leak);
    assert_eq!(outs[1].retained_bytes_per_request, None);
    assert!(outs[1].samples.is_empty());
    let (evidence, warnings) = sentences(&judged, &procs);
    assert!(
        evidence.contains(&"worker 2, pid 12 ran out of memory; restarted as pid 11".to_string()),
        "{evidence:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("worker 2, pid 12 ran out of memory before leakhound")),
        "{warnings:?}"
    );
}
