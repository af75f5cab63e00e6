//! The driving loop's questions after each sample, kept apart from the loop ([`crate::run`]):
//! should the load rounds stop (a clear leak, a flat heap, a plateau), and should the idle phase
//! go on (the heap still grows with no request: a leak driven by time)?

use tokio::time::Instant;

use crate::observations::Stop;
use crate::options::RunOptions;
use crate::shape::{shape, Shape};
use crate::state::State;
use crate::time_driven::{idle_still_growing, time_leak};
use crate::verdict::{assess, Phase, Sample, MIB};

/// Fewest load samples before the rounds stop on a leak: growth that will slow down (a cache or
/// an index over a bounded key space filling up) looks straight over its first few rounds, and
/// its bend shows only over a longer stretch ([`crate::shape`]).
pub const LEAK_POINTS: usize = 8;
/// ... and fewest requests since the start (warm-up included): a cache over K keys bends after
/// about K/2 requests (an LRU of K entries stops at K), so one over up to ~40,000 keys has shown
/// it by then. A slow service that cannot send this many within `--max-duration` is still
/// decided at the end: the rule only delays the stop.
pub const LEAK_REQUESTS: u64 = 40_000;

/// Why the rounds stop after this sample, if they do; `streak` counts rounds in a row that saw
/// a leak (two make the call).
pub(crate) fn after_round(
    opts: &RunOptions,
    st: &State,
    old_space_mb: u64,
    streak: &mut usize,
) -> Option<(&'static str, Stop)> {
    let th = &opts.thresholds;
    let old_space = old_space_mb as f64 * MIB;
    // Worker threads of the serving process (crate::threads): a leaking one counts as a leak,
    // and the rounds stop as flat only when every thread is flat too.
    let (thread_leak, threads_stable) = st.threads.trend(th);
    if st.procs.serving() > 1 {
        // A cluster (or several serving children): each serving process on its own series.
        let t = crate::process_run::trend(&st.procs, th, old_space, true);
        *streak = if t.leak || thread_leak {
            *streak + 1
        } else {
            0
        };
        // The same wait as for one process (below): enough rounds, and enough requests since
        // the start for a filling cache to have bent.
        let points = (st.samples.iter())
            .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
            .count();
        let requests = st.samples.last().map_or(0, |s| s.requests);
        if t.near_limit || (*streak >= 2 && points >= LEAK_POINTS && requests >= LEAK_REQUESTS) {
            return Some((
                "retained memory keeps growing with requests: leak suspected",
                Stop::Leak,
            ));
        }
        return (t.stable && threads_stable)
            .then_some(("retained memory is flat after warm-up", Stop::Stable));
    }
    let idx: Vec<usize> = (0..st.samples.len())
        .filter(|&i| matches!(st.samples[i].phase, Phase::Warmup | Phase::Load))
        .collect();
    let load: Vec<Sample> = idx.iter().map(|&i| st.samples[i]).collect();
    let a = assess(&load, th);
    let last = load.last().map_or(0.0, |s| s.heap_used);
    // V8's heap_size_limit adds the young generation to the old space; a leak dies when the
    // old space (--heap-mb) is full, so that is the limit to stay clear of.
    let limit = if st.heap_limit > 0.0 {
        st.heap_limit.min(old_space)
    } else {
        old_space
    };
    let near_limit = last > 0.7 * limit && a.heap.fit.is_some_and(|f| f.lo > 0.0);
    if near_limit {
        return Some((
            "retained memory nears the heap limit: leak suspected",
            Stop::Leak,
        ));
    }
    let sh = shape(&load, |s| s.heap_used, th);
    let endpoint_leak = st.mix.active() && st.mix.enough_rounds() && {
        let counts: Vec<Vec<u64>> = idx
            .iter()
            .filter_map(|&i| st.mix.at_samples.get(i).cloned())
            .collect();
        crate::endpoints::assess(&load, &counts, |s| s.heap_used, th).is_some_and(|f| {
            f.iter()
                .any(|e| e.verdict == leakhound_report::run_schema::Verdict::Leak)
        })
    };
    // Growth that is still slowing down is not called a leak yet: it may be a cache filling.
    // (A varying endpoint mix bends the total by construction: no filling cache then.)
    let slowing = matches!(sh, Shape::Slowing { .. }) && !endpoint_leak;
    // Resident memory that grows while the heaps do not (crate::rss_growth).
    let rss = crate::rss_growth::rss_only(&st.threads.with_thread_heaps(&load), th);
    *streak = if (a.leak().is_some() && !slowing) || endpoint_leak || rss || thread_leak {
        *streak + 1
    } else {
        0
    };
    if !st.mix.enough_rounds() {
        return None;
    }
    let requests = load.last().map_or(0, |l| l.requests);
    if *streak >= 2 && load.len() >= LEAK_POINTS && requests >= LEAK_REQUESTS {
        return Some((
            "retained memory keeps growing with requests: leak suspected",
            Stop::Leak,
        ));
    }
    if matches!(sh, Shape::Plateau { .. }) && !endpoint_leak {
        return Some((
            "retained memory grew ever more slowly and settled",
            Stop::Stable,
        ));
    }
    if a.stable() && !endpoint_leak && !rss && threads_stable {
        return Some(("retained memory is flat after warm-up", Stop::Stable));
    }
    None
}

/// After an idle sample: go on idling? Always until `--idle` is over; past it while the heap
/// keeps growing without requests but not yet clearly, and `--max-duration` leaves a second.
pub(crate) fn idle_goes_on(opts: &RunOptions, st: &State, idle_end: Instant) -> bool {
    if Instant::now() < idle_end {
        return true;
    }
    let heap = |s: &Sample| s.heap_used;
    st.started.elapsed() + std::time::Duration::from_secs(1) < opts.max_duration
        && idle_still_growing(&st.samples, heap)
        && time_leak(&st.samples, heap, &opts.thresholds).is_none()
}
