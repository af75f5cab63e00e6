//! `leakhound run`: start the target, drive rounds of load, sample after forced GCs, decide.

use std::sync::atomic::Ordering;
use std::time::Duration;

use leakhound_load::{Bounds, Engine, Plan};
use leakhound_report::run_schema::RoundOut;
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::Instant;

use crate::attach::pick_inspector;
use crate::conclude::conclude;
use crate::culprit::Culprit;
use crate::error::{IoContext, Result};
use crate::observations::Stop;
use crate::options::{RunOptions, RunOutcome};
use crate::progress::Progress;
use crate::startup::{Startup, Waited};
use crate::state::State;
use crate::target::{port_owner, rss_bytes, Target, TargetSpec};
use crate::verdict::{assess, thousands, Phase, Sample, MIB};

/// Run the whole loop. Errors are tool errors (exit 2); every other ending is an outcome.
pub async fn run(opts: &RunOptions, progress: Progress<'_>) -> Result<RunOutcome> {
    let mut sigint = signal(SignalKind::interrupt()).io_context(|| "listening for Ctrl-C")?;
    let mut sigterm = signal(SignalKind::terminate()).io_context(|| "listening for SIGTERM")?;
    let port = match opts.port {
        Some(p) => p,
        None => free_port()?,
    };
    let spec = TargetSpec {
        command: opts.command.clone(),
        port,
        heap_mb: opts.heap_mb,
        verbose: opts.verbose,
    };
    let mut plan = opts.plan.clone();
    plan.target = leakhound_load::Target::local(port);
    let engine = Engine::new(plan)?;
    let mut target = Target::spawn(&spec)?;
    progress(&format!(
        "started `{}` (pid {}), PORT={port}, {}",
        opts.command.join(" "),
        target.pid,
        target.old_space.describe()
    ));
    let mut st = State {
        inspector: None,
        serving_pid: target.pid,
        heap_limit: 0.0,
        samples: Vec::new(),
        counters: engine.counters(),
        stop: engine.stop_handle(),
        engine: Some(engine),
        summary: None,
        rounds: Vec::new(),
        load_time: Duration::ZERO,
        failure: None,
        died: false,
        stopped_by: None,
        load_started: None,
        load_ended: None,
        started: Instant::now(),
        culprit: Culprit::new(&opts.culprit),
        threads: crate::threads::Threads::new(&opts.culprit),
        startup: Startup::new(port),
    };
    let driven = tokio::select! {
        r = drive(opts, &mut target, &mut st, progress) => r.map(|()| false),
        _ = sigint.recv() => Ok(true),
        _ = sigterm.recv() => Ok(true),
        _ = opts.cancel.notified() => Ok(true),
    };
    // A round still running on its blocking thread ends now rather than at its bounds.
    st.stop.stop();
    if let Some(ins) = st.inspector.take() {
        ins.close().await;
    }
    // Give a crashing target a moment to finish its OOM banner before the group goes.
    if st.died {
        target.wait_exit(Duration::from_millis(500)).await;
    }
    target.teardown(Duration::from_secs(3)).await;
    let interrupted = driven?;
    if interrupted {
        progress("interrupted: the target was stopped");
        st.culprit.abandon();
    } else {
        st.culprit.finish(progress).await;
    }
    st.threads.finish(interrupted, progress).await;
    let mut outcome = conclude(opts, port, &target, &st, interrupted);
    st.culprit.fill(&mut outcome.report);
    let (obs, captured) = crate::conclude::observe(opts, port, &target, &st, interrupted);
    crate::thread_verdicts::apply(opts, &st.threads.list, &obs, &captured, &mut outcome);
    st.startup.fill(&mut outcome.report);
    Ok(outcome)
}

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .io_context(|| "finding a free port on 127.0.0.1")
}

async fn drive(
    opts: &RunOptions,
    target: &mut Target,
    st: &mut State,
    progress: Progress<'_>,
) -> Result<()> {
    // 1. The port: PORT, or the one the target's processes listen on (crate::startup).
    let waited = st
        .startup
        .wait(target, opts.start_timeout, st.started, progress)
        .await;
    let port = match waited {
        Waited::Listening(p) => p,
        Waited::Failed(why) => {
            let limit = target.captured.lock().unwrap().heap_limit(Some(target.pid));
            st.heap_limit = limit.unwrap_or(0.0);
            st.failure = Some(why);
            return Ok(());
        }
    };
    if port != st.startup.asked {
        // The load plan was made for PORT; it goes where the target listens.
        let mut plan = opts.plan.clone();
        plan.target = leakhound_load::Target::local(port);
        let engine = Engine::new(plan)?;
        st.counters = engine.counters();
        st.stop = engine.stop_handle();
        st.engine = Some(engine);
    }
    progress(&format!("listening on 127.0.0.1:{port}"));
    // 2. The inspector of the process that serves the port.
    let owner = port_owner(port);
    let (ins, pid) = pick_inspector(target, owner).await?;
    st.serving_pid = owner.unwrap_or(pid);
    let t = Duration::from_secs(5);
    let stats = ins.heap_statistics(t).await?;
    st.heap_limit = stats.heap_size_limit;
    progress(&format!(
        "heap limit: {:.0} MiB (v8 heap_size_limit of pid {})",
        stats.heap_size_limit / MIB,
        st.serving_pid
    ));
    st.threads.enable(&ins, progress).await;
    st.inspector = Some(ins);
    // 3. Baseline, warm-up.
    if !take_sample(st, target, Phase::Baseline, progress).await {
        return Ok(());
    }
    progress(&format!(
        "warm-up: {:?} of load, {}",
        opts.warmup,
        describe(&opts.plan)
    ));
    let gc_now = |t: &Target| {
        let c = t.captured.lock().unwrap();
        (c.gc.allocated_bytes, c.gc.gc_time_ms)
    };
    st.culprit
        .before_warmup(st.inspector.as_ref(), progress)
        .await;
    st.threads
        .before_warmup(st.inspector.as_ref(), progress)
        .await;
    let (a0, p0) = gc_now(target);
    st.load_started = Some((Instant::now(), a0, p0));
    load_round(opts, st, target, opts.warmup).await;
    if !take_sample(st, target, Phase::Warmup, progress).await {
        return Ok(());
    }
    // A snapshot here is a pause in load: it does not count as load time.
    let paused = Instant::now();
    st.culprit
        .after_warmup(st.inspector.as_ref(), progress)
        .await;
    st.threads.after_warmup(progress).await;
    if let Some(l) = st.load_started.as_mut() {
        l.0 += paused.elapsed();
    }
    // 4. Rounds until the evidence is clear.
    let mut leak_streak = 0;
    loop {
        if st.started.elapsed() + opts.round + opts.idle > opts.max_duration {
            progress("time budget reached (--max-duration)");
            st.stopped_by = Some(Stop::MaxDuration);
            break;
        }
        if let Some((why, stop)) = load_budget_spent(opts, st) {
            progress(why);
            st.stopped_by = Some(stop);
            break;
        }
        load_round(opts, st, target, opts.round).await;
        if !take_sample(st, target, Phase::Load, progress).await {
            st.stopped_by = Some(Stop::SampleFailed);
            break;
        }
        let load: Vec<Sample> = st
            .samples
            .iter()
            .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
            .copied()
            .collect();
        let a = assess(&load, &opts.thresholds);
        let last = load.last().map_or(0.0, |s| s.heap_used);
        // V8's heap_size_limit adds the young generation to the old space; a leak dies when the
        // old space (--heap-mb) is full, so that is the limit to stay clear of.
        let old_space = target.old_space.mb as f64 * MIB;
        let limit = if st.heap_limit > 0.0 {
            st.heap_limit.min(old_space)
        } else {
            old_space
        };
        let near_limit = last > 0.7 * limit && a.heap.fit.is_some_and(|f| f.lo > 0.0);
        let (thread_leak, threads_stable) = st.threads.trend(&opts.thresholds);
        leak_streak = if a.leak().is_some() || thread_leak {
            leak_streak + 1
        } else {
            0
        };
        if leak_streak >= 2 || near_limit {
            progress("retained memory keeps growing with requests: leak suspected");
            st.stopped_by = Some(Stop::Leak);
            break;
        }
        if a.stable() && threads_stable {
            progress("retained memory is flat after warm-up");
            st.stopped_by = Some(Stop::Stable);
            break;
        }
    }
    let (a1, p1) = gc_now(target);
    st.load_ended = Some((Instant::now(), a1, p1));
    if !st.died {
        st.culprit.after_load(st.inspector.as_ref(), progress).await;
        st.threads.after_load(progress).await;
    }
    // 5. Idle, then the last sample.
    if !st.died {
        progress(&format!("idle: {:?} without load", opts.idle));
        tokio::time::sleep(opts.idle).await;
        if take_sample(st, target, Phase::Idle, progress).await {
            st.culprit.after_idle(st.inspector.as_ref(), progress).await;
            st.threads.after_idle(progress).await;
        }
    }
    Ok(())
}

/// "16 connections, GET /api/data" (or the config's endpoints), for the progress lines.
fn describe(plan: &Plan) -> String {
    let eps: Vec<String> = plan
        .endpoints
        .iter()
        .map(|e| match e.path.as_literal() {
            Some(p) => format!("{} {}", e.method, String::from_utf8_lossy(p)),
            None => format!("{} ({})", e.method, e.name),
        })
        .collect();
    let model = match plan.rate {
        Some(r) => format!("{r} req/s over up to {} connections", plan.connections),
        None => format!("{} connections", plan.connections),
    };
    format!("{model}, {}", eps.join(" + "))
}

/// `-n` or `-d` used up: the reason, for the progress line.
fn load_budget_spent(opts: &RunOptions, st: &State) -> Option<(&'static str, Stop)> {
    if opts
        .max_requests
        .is_some_and(|n| st.counters.completed.load(Ordering::Relaxed) >= n)
    {
        return Some(("request budget reached (-n)", Stop::RequestBudget));
    }
    if opts.max_load.is_some_and(|d| st.load_time >= d) {
        return Some(("load time budget reached (-d)", Stop::LoadBudget));
    }
    None
}

/// One round of load of at most `dur` (less when `-n`/`-d` leave less), on a blocking thread
/// since the engine runs its own runtimes. The round is stopped early if the target dies.
async fn load_round(opts: &RunOptions, st: &mut State, target: &mut Target, dur: Duration) {
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
    st.summary = Some(engine.summary());
    st.engine = Some(engine);
}

/// Force a full GC and read memory. `false` when the target is gone (or stopped answering).
async fn take_sample(
    st: &mut State,
    target: &mut Target,
    phase: Phase,
    progress: Progress<'_>,
) -> bool {
    let Some(ins) = st.inspector.as_ref() else {
        return false;
    };
    // The target's event loop ran dry: it only waits for our inspector session to go.
    if target.captured.lock().unwrap().waiting_for_debugger {
        st.died = true;
        progress("the target finished on its own");
        return false;
    }
    let gc = ins.collect_garbage(Duration::from_secs(15)).await;
    let mem = match gc {
        Ok(()) => ins.memory_usage(Duration::from_secs(5)).await,
        Err(e) => Err(e),
    };
    let mem = match mem {
        Ok(m) => m,
        Err(e) => {
            let gone = target.wait_exit(Duration::from_millis(300)).await.is_some()
                || target.captured.lock().unwrap().oom;
            if gone {
                st.died = true;
                progress("the target died under load");
            } else {
                st.failure = Some(format!("the target stopped answering the inspector: {e}"));
            }
            return false;
        }
    };
    let s = Sample {
        t_s: st.started.elapsed().as_secs_f64(),
        requests: st.counters.completed.load(Ordering::Relaxed),
        heap_used: mem.heap_used,
        external: mem.external,
        array_buffers: mem.array_buffers,
        rss: rss_bytes(st.serving_pid),
        phase,
    };
    progress(&format!(
        "{:>6.1}s {:<8} {:>10} req  heap {:>7.2} MiB  external {:>7.2} MiB  rss {:>7.1} MiB",
        s.t_s,
        format!("{phase:?}").to_lowercase(),
        thousands(s.requests),
        s.heap_used / MIB,
        s.external / MIB,
        s.rss / MIB
    ));
    st.samples.push(s);
    st.threads.sample(ins, &s, progress).await;
    true
}
