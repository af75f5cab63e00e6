//! `leakhound run`: start the target, drive rounds of load, sample after forced GCs, decide.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use leakhound_load::{Engine, Plan};
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::Instant;

use crate::attach::attach;
use crate::checkpoint;
use crate::conclude::conclude;
use crate::culprit::Culprit;
use crate::error::{IoContext, Result};
use crate::load_round::load_round;
use crate::observations::Stop;
use crate::options::{RunOptions, RunOutcome};
use crate::process_culprits::{self, At};
use crate::progress::Progress;
use crate::sampling::{idle_phase, take_sample};
use crate::startup::{Startup, Waited};
use crate::state::State;
use crate::target::{port_owner, Target, TargetSpec};
use crate::verdict::{Phase, MIB};

/// Run the whole loop. Errors are tool errors (exit 2); every other ending is an outcome.
pub async fn run(opts: &RunOptions, progress: Progress<'_>) -> Result<RunOutcome> {
    let mut sigint = signal(SignalKind::interrupt()).io_context(|| "listening for Ctrl-C")?;
    let mut sigterm = signal(SignalKind::terminate()).io_context(|| "listening for SIGTERM")?;
    let port = match opts.port {
        Some(p) => p,
        None => free_port()?,
    };
    // The heap at death: Node writes a snapshot near the heap limit (crate::heap_at_death).
    let old_space = crate::heap_flag::old_space(
        &opts.command,
        std::env::var("NODE_OPTIONS").ok().as_deref(),
        opts.heap_mb,
    );
    let death = crate::heap_at_death::HeapAtDeath::arm(
        &opts.command,
        old_space.mb,
        opts.culprit.snapshots_dir.as_deref(),
    );
    let spec = TargetSpec {
        command: opts.command.clone(),
        port,
        heap_mb: opts.heap_mb,
        verbose: opts.verbose,
        extra_node_options: death.node_options.clone(),
    };
    let mut plan = opts.plan.clone();
    plan.target = leakhound_load::Target::local(port);
    let plan_for_mix = plan.clone();
    let engine = Engine::new(plan)?;
    let mut target = Target::spawn(&spec)?;
    progress(&format!(
        "started `{}` (pid {}), PORT={port}, {}",
        opts.command.join(" "),
        target.pid,
        target.old_space.describe()
    ));
    let mut st = State {
        procs: Default::default(),
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
        other_culprits: Vec::new(),
        threads: crate::threads::Threads::new(&opts.culprit),
        startup: Startup::new(port),
        mix: crate::mix::Tally::of_plan(&plan_for_mix),
        axis: Default::default(),
        death: death.probe(),
        death_wait: Duration::ZERO,
    };
    let mut driven = tokio::select! {
        r = drive(opts, &mut target, &mut st, &death, progress) => r.map(|()| false),
        _ = sigint.recv() => Ok(true),
        _ = sigterm.recv() => Ok(true),
        _ = opts.cancel.notified() => Ok(true),
    };
    // A round still running on its blocking thread ends now rather than at its bounds.
    st.stop.stop();
    // A process died while its parent lives on: give the parent the time to restart it (an
    // interruption ends the wait, and the run, at once).
    if matches!(driven, Ok(false)) && st.procs.list.iter().any(|p| p.exit.is_some()) {
        tokio::select! {
            () = crate::restart_wait::await_restarts(&mut st, &mut target, progress) => {}
            _ = sigint.recv() => driven = Ok(true),
            _ = sigterm.recv() => driven = Ok(true),
            _ = opts.cancel.notified() => driven = Ok(true),
        }
    }
    crate::process_run::wind_up(&mut st, &mut target).await;
    // Give a crashing target a moment to finish its OOM banner before the group goes.
    if st.died {
        target.wait_exit(Duration::from_millis(500)).await;
    }
    target.teardown(Duration::from_secs(3)).await;
    let interrupted = driven?;
    if interrupted {
        progress("interrupted: the target was stopped");
    }
    // The analysis of the snapshots that follows can take minutes on big heaps: Ctrl-C /
    // SIGTERM now stop it (leakhound_heap::cancel) and the run ends `interrupted`.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
            stop.store(true, Ordering::Relaxed);
        })
    };
    let mut stopped = process_culprits::finish(&mut st, interrupted, &stop, progress).await;
    let mut outcome = conclude(opts, port, &target, &st, interrupted);
    let described = process_culprits::fill(&st, &mut outcome.report);
    let lead_thread = crate::conclude::threads(opts, port, &target, &st, interrupted, &mut outcome);
    st.startup.fill(&mut outcome.report);
    let base = opts
        .culprit
        .base
        .clone()
        .or_else(|| std::env::current_dir().ok());
    stopped |= death
        .fill(&mut outcome.report, base.as_deref(), &stop, progress)
        .await;
    watcher.abort();
    if stopped {
        progress("interrupted: the analysis of the heap snapshots was stopped");
        crate::conclude::analysis_interrupted(&mut outcome);
    }
    // Patterns and excerpts last: they read the suspects of the heap at death too.
    // Matched on the stacks of the process or thread the top level describes.
    let culprit = process_culprits::described(&st, described, lead_thread);
    crate::library_patterns::fill(culprit, &target, &mut outcome.report);
    crate::pattern_culprit::fill(&mut outcome.report);
    outcome.report.source_excerpts =
        crate::source_excerpts::excerpts(&outcome.report, base.as_deref());
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
    death: &crate::heap_at_death::HeapAtDeath,
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
    attach(target, &mut st.procs, owner).await?;
    let main = &st.procs.list[st.procs.main.unwrap_or(0)];
    st.serving_pid = main.pid;
    let t = Duration::from_secs(5);
    let stats = match main.ins.as_ref() {
        Some(ins) => ins.heap_statistics(t).await?,
        None => return Ok(()),
    };
    st.heap_limit = stats.heap_size_limit;
    progress(&format!(
        "heap limit: {:.0} MiB (v8 heap_size_limit of pid {})",
        stats.heap_size_limit / MIB,
        st.serving_pid
    ));
    crate::process_run::tell_processes(&st.procs, progress);
    if let Some(ins) = st.procs.main_inspector() {
        st.threads.enable(ins, progress).await;
        death.arm_in(ins, progress).await;
    }
    // 3. Baseline, warm-up.
    if !take_sample(st, target, Phase::Baseline, progress).await {
        return Ok(());
    }
    if let Some(lc) = &opts.load_cmd {
        return crate::load_cmd::drive(opts, lc, st, target, port, progress).await;
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
    st.other_culprits = process_culprits::for_others(&opts.culprit, &st.procs);
    process_culprits::step(st, At::BeforeWarmup, progress).await;
    let (a0, p0) = gc_now(target);
    st.load_started = Some((Instant::now(), a0, p0));
    load_round(opts, st, target, opts.warmup).await;
    if st.failure.is_some() {
        return Ok(()); // a setup step failed
    }
    if !take_sample(st, target, Phase::Warmup, progress).await {
        return Ok(());
    }
    // A snapshot here is a pause in load: it does not count as load time.
    let paused = Instant::now();
    process_culprits::step(st, At::AfterWarmup, progress).await;
    if let Some(l) = st.load_started.as_mut() {
        l.0 += paused.elapsed();
    }
    // 4. Rounds until the evidence is clear.
    let mut leak_streak = 0;
    loop {
        let spent = st.started.elapsed().saturating_sub(st.death_wait);
        if spent + opts.round + opts.idle > opts.max_duration {
            progress("time budget reached (--max-duration)");
            st.stopped_by = Some(Stop::MaxDuration);
            break;
        }
        if let Some((why, stop)) = load_budget_spent(opts, st) {
            progress(why);
            st.stopped_by = Some(stop);
            break;
        }
        // Several endpoints: each round favours one in turn (crate::mix).
        if let (Some(w), Some(e)) = (st.mix.next_round(), st.engine.as_mut()) {
            e.set_mix(Some(w));
        }
        load_round(opts, st, target, opts.round).await;
        if st.failure.is_some() {
            return Ok(()); // a setup step failed
        }
        if !take_sample(st, target, Phase::Load, progress).await {
            st.stopped_by = Some(Stop::SampleFailed);
            break;
        }
        if target.captured.lock().unwrap().oom {
            // A cluster worker ran out of memory while its primary lives on: that is the
            // leak's evidence, not a reason to start over.
            progress("a process of the target ran out of memory: leak");
            st.stopped_by = Some(Stop::Leak);
            break;
        }
        if let Some((why, stop)) =
            checkpoint::after_round(opts, st, target.old_space.mb, &mut leak_streak)
        {
            progress(why);
            st.stopped_by = Some(stop);
            break;
        }
    }
    let (a1, p1) = gc_now(target);
    st.load_ended = Some((Instant::now(), a1, p1));
    if !st.died {
        process_culprits::step(st, At::AfterLoad, progress).await;
    }
    idle_phase(opts, st, target, progress).await;
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
