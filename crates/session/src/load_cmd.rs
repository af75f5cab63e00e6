//! `run --load-cmd CMD`: the user's own load (a k6 or autocannon script, a WebSocket or gRPC
//! client, a queue producer) instead of the engine. CMD starts once the target listens
//! ([`crate::load_process`]); the target is sampled after a forced GC every `--sample-every`
//! while CMD runs; the x axis is the work CMD reports (`leakhound:count N`) or, without it,
//! time ([`crate::work_axis`]). The phase ends on clear evidence, when CMD exits, or at
//! `--max-duration`; then the idle phase of [`crate::run`].

use std::sync::atomic::Ordering;
use std::time::Duration;

use leakhound_report::run_schema::FitAxis;
use tokio::time::Instant;

use crate::checkpoint::{LEAK_POINTS, LEAK_REQUESTS};
use crate::error::Result;
use crate::load_process::LoadProcess;
use crate::observations::Stop;
use crate::options::{LoadCmd, RunOptions};
use crate::progress::Progress;
use crate::sampling::{idle_phase, take_sample};
use crate::shape::{shape, Shape};
use crate::state::State;
use crate::target::Target;
use crate::time_shape::{served_at, time_shape};
use crate::verdict::{assess, Phase, Sample, MIB};
use crate::work_axis::{thresholds, MS};

/// How long CMD's group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// One sample taken while CMD ran: its time and the work count CMD had reported by then.
struct Point {
    t_s: f64,
    count: Option<u64>,
}

/// Drive the target with CMD, from the baseline sample to the end of the idle phase.
pub(crate) async fn drive(
    opts: &RunOptions,
    lc: &LoadCmd,
    st: &mut State,
    target: &mut Target,
    port: u16,
    progress: Progress<'_>,
) -> Result<()> {
    let mut cmd = match &lc.command {
        Some(c) => match LoadProcess::spawn(c, port, opts.verbose) {
            Ok(p) => {
                progress(&format!(
                    "load command: `{c}` (pid {}), URL=http://127.0.0.1:{port}; a sample every {:?}",
                    p.pid, lc.sample_every
                ));
                Some(p)
            }
            Err(e) => {
                st.failure = Some(format!("could not start --load-cmd `{c}`: {e}"));
                return Ok(());
            }
        },
        None => {
            progress(&format!("workload: a sample every {:?}", lc.sample_every));
            None
        }
    };
    st.axis = FitAxis::Seconds;
    let gc_now = |t: &Target| {
        let c = t.captured.lock().unwrap();
        (c.gc.allocated_bytes, c.gc.gc_time_ms)
    };
    let (a0, p0) = gc_now(target);
    st.load_started = Some((Instant::now(), a0, p0));
    let mut points: Vec<Point> = Vec::new();
    let mut streak = 0;
    let mut exit = None;
    loop {
        if st.started.elapsed() + lc.sample_every + opts.idle > opts.max_duration {
            progress("time budget reached (--max-duration)");
            st.stopped_by = Some(Stop::MaxDuration);
            break;
        }
        let exited = async {
            match cmd.as_mut() {
                Some(c) => c.wait().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            s = exited => exit = Some(s),
            _ = tokio::time::sleep(lc.sample_every) => {}
        }
        let phase = if points.is_empty() {
            Phase::Warmup
        } else {
            Phase::Load
        };
        let count = match &cmd {
            Some(c) => c.count(),
            None => iterations(st),
        };
        // The progress line shows the axis' position (relabelled exactly after the sample).
        let work = count.is_some() || points.iter().any(|p| p.count.is_some());
        let x = match work {
            true => count.unwrap_or(0),
            false => (st.started.elapsed().as_secs_f64() * MS) as u64,
        };
        st.counters.completed.store(x, Ordering::Relaxed);
        if work {
            st.axis = if cmd.is_some() {
                FitAxis::Work
            } else {
                FitAxis::Iterations
            };
        }
        let before = st.samples.len();
        if !take_sample(st, target, phase, progress).await {
            st.stopped_by = Some(Stop::SampleFailed);
            break;
        }
        if st.samples.len() > before {
            let t_s = st.samples[before].t_s;
            // A workload's count is read with the sample itself.
            let count = if cmd.is_none() { iterations(st) } else { count };
            points.push(Point { t_s, count });
            relabel(st, &points, cmd.is_none());
        }
        if let Some(s) = exit {
            progress(&format!("the load command exited ({s})"));
            break;
        }
        if target.captured.lock().unwrap().oom {
            progress("a process of the target ran out of memory: leak");
            st.stopped_by = Some(Stop::Leak);
            break;
        }
        if let Some((why, stop)) =
            evidence(opts, st, target.old_space.mb, &mut streak, cmd.is_some())
        {
            progress(why);
            st.stopped_by = Some(stop);
            break;
        }
    }
    let (a1, p1) = gc_now(target);
    st.load_ended = Some((Instant::now(), a1, p1));
    if let Some(c) = cmd.as_mut() {
        c.stop(GRACE).await;
    }
    let load = points.len();
    if let (Some(s), Some(c)) = (exit.filter(|s| !s.success()), &cmd) {
        // Too early for any evidence: the command failed, not the target's memory.
        if load < opts.thresholds.min_points {
            let tail = c.tail();
            let said = if tail.is_empty() {
                "no output".to_string()
            } else {
                format!("its last output: {}", tail.join(" | "))
            };
            st.failure = Some(format!(
                "the load command `{}` exited ({s}) after {load} samples, before any evidence; {said}",
                lc.command.as_deref().unwrap_or_default()
            ));
            return Ok(());
        }
        progress(&format!(
            "the load command failed ({s}): judging the samples it drove"
        ));
    }
    // A workload cannot be paused from here (its calls run inside the target), so its run has
    // no idle phase: an idle sample would see the calls go on and mistake them for time.
    if cmd.is_some() {
        idle_phase(opts, st, target, progress).await;
    }
    Ok(())
}

/// Put the axis' position in every sample's `requests`: the work count once CMD reports one
/// (0 before its first line), else milliseconds since the run started.
fn relabel(st: &mut State, points: &[Point], workload: bool) {
    let work = points.iter().any(|p| p.count.is_some());
    st.axis = match (work, workload) {
        (true, true) => FitAxis::Iterations,
        (true, false) => FitAxis::Work,
        _ => FitAxis::Seconds,
    };
    let x_at = |t_s: f64| -> Option<u64> {
        let p = points.iter().find(|p| p.t_s == t_s)?;
        Some(match work {
            true => p.count.unwrap_or(0),
            false => (p.t_s * MS) as u64,
        })
    };
    let relabel = |samples: &mut Vec<Sample>| {
        for s in samples.iter_mut() {
            if let Some(x) = x_at(s.t_s) {
                s.requests = x;
            }
        }
    };
    relabel(&mut st.samples);
    for p in &mut st.procs.list {
        relabel(&mut p.samples);
    }
    for t in &mut st.threads.list {
        relabel(&mut t.samples);
    }
    // Idle samples (and the final figures) carry the last position.
    let last = st.samples.last().map_or(0, |s| s.requests);
    st.counters.completed.store(last, Ordering::Relaxed);
}

/// The calls a `--workload` finished by its last sample (its runner keeps the count where the
/// preload's request counter is, read with every sample).
fn iterations(st: &State) -> Option<u64> {
    let main = st.procs.main?;
    st.procs.list.get(main)?.own.last().copied().flatten()
}

/// The requests the target's own HTTP server counted by its last sample, when it counts them
/// (a workload's runner keeps its iterations there instead).
fn served(st: &State) -> Option<u64> {
    iterations(st)
}

/// Stop CMD's phase on this sample? Two leaking checks in a row over at least
/// [`LEAK_POINTS`] samples (and not still slowing down), a plateau, or a flat heap. As with
/// the built-in load ([`crate::checkpoint`]), a cluster's serving processes are judged each on
/// its own series and the serving process's worker threads too: a leak in any of them counts,
/// and the phase ends as flat only when all of them are.
fn evidence(
    opts: &RunOptions,
    st: &State,
    old_space_mb: u64,
    streak: &mut usize,
    cmd: bool,
) -> Option<(&'static str, Stop)> {
    let th = thresholds(&opts.thresholds, st.axis);
    let (thread_leak, threads_stable) = st.threads.trend(&th);
    if st.procs.serving() > 1 {
        let t = crate::process_run::trend(&st.procs, &th, old_space_mb as f64 * MIB, false);
        *streak = if t.leak || thread_leak {
            *streak + 1
        } else {
            0
        };
        if t.near_limit || (*streak >= 2 && st.samples.len() > LEAK_POINTS) {
            return Some((
                "retained memory keeps growing in a process under the load command: leak suspected",
                Stop::Leak,
            ));
        }
        return (t.stable && threads_stable).then_some((
            "retained memory is flat in every process under the load command",
            Stop::Stable,
        ));
    }
    let load: Vec<Sample> = st
        .samples
        .iter()
        .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
        .copied()
        .collect();
    let a = assess(&load, &th);
    let last = load.last().map_or(0.0, |s| s.heap_used);
    let limit = match st.heap_limit {
        l if l > 0.0 => l.min(old_space_mb as f64 * MIB),
        _ => old_space_mb as f64 * MIB,
    };
    if last > 0.7 * limit && a.heap.fit.is_some_and(|f| f.lo > 0.0) {
        return Some((
            "retained memory nears the heap limit: leak suspected",
            Stop::Leak,
        ));
    }
    // On time, the shape is judged on the requests the target served, when it counts them.
    let sh = match (st.axis, st.procs.main.and_then(|m| st.procs.list.get(m))) {
        (FitAxis::Seconds, Some(p)) => {
            let served = served_at(&load, &p.samples, &p.own);
            time_shape(&load, &served, |s| s.heap_used, &th)
        }
        _ => shape(&load, |s| s.heap_used, &th),
    };
    let slowing = matches!(sh, Shape::Slowing { .. });
    *streak = if (a.leak().is_some() && !slowing) || thread_leak {
        *streak + 1
    } else {
        0
    };
    // The built-in load's wait for a filling cache's bend ([`LEAK_REQUESTS`]), on the requests
    // the target's own HTTP server counted (the command's units or seconds say nothing of its
    // key space); a command that drives no HTTP is not held back.
    let served = match cmd {
        true => served(st).unwrap_or(LEAK_REQUESTS),
        false => LEAK_REQUESTS,
    };
    if *streak >= 2 && load.len() >= LEAK_POINTS && served >= LEAK_REQUESTS {
        return Some((
            "retained memory keeps growing under the load command: leak suspected",
            Stop::Leak,
        ));
    }
    if matches!(sh, Shape::Plateau { .. }) {
        return Some((
            "retained memory grew ever more slowly and settled",
            Stop::Stable,
        ));
    }
    (a.stable() && threads_stable).then_some((
        "retained memory is flat under the load command",
        Stop::Stable,
    ))
}
