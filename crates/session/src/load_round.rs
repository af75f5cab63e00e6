//! One load round driven from the run loop ([`crate::run`]): the engine runs on a blocking
//! thread, watched for the target's death, and the round's figures are kept in the state.

use std::sync::atomic::Ordering;
use std::time::Duration;

use leakhound_load::Bounds;
use leakhound_report::run_schema::RoundOut;

use crate::options::RunOptions;
use crate::state::State;
use crate::target::Target;

/// One round of load of at most `dur` (less when `-n`/`-d` leave less), on a blocking thread
/// since the engine runs its own runtimes. The round is stopped early if the target dies.
pub(crate) async fn load_round(
    opts: &RunOptions,
    st: &mut State,
    target: &mut Target,
    dur: Duration,
) {
    let mut bounds = Bounds::duration(dur);
    if let Some(max) = opts.max_load {
        bounds.duration = Some(dur.min(max.saturating_sub(st.load_time)));
    }
    if let Some(n) = opts.max_requests {
        bounds.requests = Some(n.saturating_sub(st.counters.completed.load(Ordering::Relaxed)));
    }
    if bounds.requests == Some(0) || bounds.duration == Some(Duration::ZERO) {
        return;
    }
    let Some(mut engine) = st.engine.take() else {
        return;
    };
    let mut task = tokio::task::spawn_blocking(move || {
        let r = engine.run_round(bounds);
        (engine, r)
    });
    let joined = loop {
        tokio::select! {
            j = &mut task => break j,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                // The serving process is gone (a wrapper that exits after starting the server
                // is not a death), or it is printing its out-of-memory banner.
                let serving = st.serving_pid as i32;
                // SAFETY: signal 0 only probes whether the process exists.
                let gone = target.exited().is_some() && unsafe { libc::kill(serving, 0) } != 0;
                if gone || target.captured.lock().unwrap().oom {
                    st.stop.stop();
                }
            }
        }
    };
    let Ok((engine, r)) = joined else { return };
    if let Some(f) = &r.setup_failed {
        st.failure = Some(f.to_string());
    }
    st.load_time += r.elapsed;
    let secs = r.elapsed.as_secs_f64();
    st.rounds.push(RoundOut {
        t_s: st.started.elapsed().as_secs_f64(),
        requests_per_second: if secs > 0.0 {
            r.requests as f64 / secs
        } else {
            0.0
        },
        p50_ms: r.summary.latency.as_ref().map_or(0.0, |l| l.p50_ms),
        p99_ms: r.summary.latency.as_ref().map_or(0.0, |l| l.p99_ms),
    });
    st.mix.add(&r.per_endpoint);
    st.summary = Some(engine.summary());
    st.engine = Some(engine);
}
