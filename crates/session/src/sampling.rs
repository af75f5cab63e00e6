//! Sampling the target: one sample after a forced full GC in every followed process, and the
//! idle phase's samples at the end of a run. Shared by the engine's rounds ([`crate::run`])
//! and a load command's phase ([`crate::load_cmd`]).

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use crate::checkpoint;
use crate::options::RunOptions;
use crate::process_culprits::{self, At};
use crate::progress::Progress;
use crate::state::State;
use crate::target::{port_owner, Target};
use crate::verdict::{thousands, Phase, MIB};

/// 5. Idle, sampled every second; longer while the heap grows without requests (time).
pub(crate) async fn idle_phase(
    opts: &RunOptions,
    st: &mut State,
    target: &mut Target,
    progress: Progress<'_>,
) {
    if st.died {
        return;
    }
    progress(&format!("idle: {:?} without load", opts.idle));
    let idle_end = Instant::now() + opts.idle;
    let mut ok = true;
    while ok && checkpoint::idle_goes_on(opts, st, idle_end) {
        let left = idle_end.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.clamp(Duration::from_millis(500), Duration::from_secs(1))).await;
        ok = take_sample(st, target, Phase::Idle, progress).await;
    }
    if ok {
        process_culprits::step(st, At::AfterIdle, progress).await;
    }
}

/// Force a full GC in every followed process and read memory. `false` when the main process
/// is gone (or stopped answering).
pub(crate) async fn take_sample(
    st: &mut State,
    target: &mut Target,
    phase: Phase,
    progress: Progress<'_>,
) -> bool {
    let Some(main) = st
        .procs
        .main
        .filter(|_| st.procs.main_inspector().is_some())
    else {
        return false;
    };
    // The target's event loop ran dry: it only waits for our inspector session to go.
    if target.captured.lock().unwrap().waiting_for_debugger {
        st.died = true;
        progress("the target finished on its own");
        return false;
    }
    // Processes that appeared since the last round (a late fork, a restarted worker).
    if st.procs.discover(target).await > 0 {
        st.procs.classify(port_owner(st.startup.port));
        crate::process_run::tell_processes(&st.procs, progress);
    }
    let deaths = |t: &Target| t.captured.lock().unwrap().oom_deaths.clone();
    let t_s = st.started.elapsed().as_secs_f64();
    let requests = st.counters.completed.load(Ordering::Relaxed);
    let mut answer = st.procs.sample(t_s, requests, phase, &deaths(target)).await;
    // No answer while V8 writes the snapshot at death: wait for it, then ask once more.
    if !matches!(answer, Some(Ok(_))) {
        if let Some(p) = st.death.clone() {
            let cap = target.captured.clone();
            let ended = move || cap.lock().unwrap().closed_streams == 2;
            let t0 = std::time::Instant::now();
            if p.wait_written(ended, progress).await {
                st.death_wait += t0.elapsed();
                answer = st.procs.sample(t_s, requests, phase, &deaths(target)).await;
            }
        }
    }
    let (mem, own) = match answer {
        Some(Ok(m)) => m,
        other => {
            let e = match other {
                Some(Err(e)) => e.to_string(),
                _ => "no answer".to_string(),
            };
            let gone = target.wait_exit(Duration::from_millis(300)).await.is_some()
                || target.captured.lock().unwrap().oom;
            // Out of memory when the trace names it, or when it is the only process that
            // ended and no trace named one.
            let lone = !st.procs.list.iter().any(|p| p.exit.is_some());
            let oom = target.captured.lock().unwrap().oom;
            let oom = deaths(target).ran_out(st.procs.list[main].pid, oom, lone);
            st.procs.gone(main, oom).await;
            if gone {
                st.died = true;
                if st.procs.list.len() > 1 {
                    let what = if oom { "ran out of memory" } else { "died" };
                    progress(&format!("{} {what} under load", st.procs.list[main].label));
                } else {
                    progress("the target died under load");
                }
            } else {
                st.failure = Some(format!("the target stopped answering the inspector: {e}"));
            }
            return false;
        }
    };
    let s = crate::processes::sample_of(t_s, requests, phase, &mem, st.serving_pid);
    st.procs.record(main, s, own);
    // The axis' position in its own unit: on time it is the clock already shown.
    use leakhound_report::run_schema::FitAxis;
    let at = match st.axis {
        FitAxis::Requests => format!("{} req", thousands(s.requests)),
        FitAxis::Seconds => String::new(),
        FitAxis::Work => format!("{} units", thousands(s.requests)),
        FitAxis::Iterations => format!("{} iter", thousands(s.requests)),
    };
    progress(&format!(
        "{:>6.1}s {:<8} {at:>14}  heap {:>7.2} MiB  external {:>7.2} MiB  rss {:>7.1} MiB",
        s.t_s,
        format!("{phase:?}").to_lowercase(),
        s.heap_used / MIB,
        s.external / MIB,
        s.rss / MIB
    ));
    crate::process_run::tell_others(&st.procs, t_s, progress);
    st.samples.push(s);
    if let Some(ins) = st.procs.main_inspector() {
        st.threads.sample(ins, &s, progress).await;
    }
    st.mix.sampled();
    true
}
