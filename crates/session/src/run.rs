//! `leakhound run`: start the target, drive rounds of load, sample after forced GCs, decide.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use leakhound_inspector::Inspector;
use leakhound_load::{Bounds, Counters, Endpoint, Engine, Plan, StopHandle, Summary, Template};
use leakhound_report::run_schema::{MemLineOut, RoundOut, RunReport, RunSample, Verdict, SCHEMA};
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::Instant;

use crate::culprit::{Culprit, CulpritOptions};
use crate::startup::{Startup, Waited};
use crate::target::{port_owner, rss_bytes, Target, TargetSpec};
use crate::verdict::{
    assess, human_duration, human_mb, shrank_when_idle, thousands, time_to_fill_s, Assessment,
    LeakKind, Phase, Sample, Thresholds, Trend, KIB, MIB,
};

/// Exit codes of `run` (DESIGN.md).
pub mod exit_code {
    pub const NO_LEAK: i32 = 0;
    pub const LEAK: i32 = 1;
    pub const INCONCLUSIVE: i32 = 3;
    pub const TARGET_FAILED: i32 = 4;
    /// Interrupted by SIGINT/SIGTERM (the shell convention, 128 + 2).
    pub const INTERRUPTED: i32 = 130;
}

/// Everything `run` needs to know.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub command: Vec<String>,
    pub heap_mb: u64,
    pub port: Option<u16>,
    /// What to send and how (connections, `-q` rate, timeouts); its target is replaced by
    /// 127.0.0.1 on the child's port.
    pub plan: Plan,
    /// `-n`: the run's total requests, over all rounds.
    pub max_requests: Option<u64>,
    /// `-d`: the run's total time under load, over all rounds.
    pub max_load: Option<Duration>,
    pub warmup: Duration,
    pub round: Duration,
    pub idle: Duration,
    pub max_duration: Duration,
    pub start_timeout: Duration,
    pub prod_rps: Option<f64>,
    pub prod_heap_mb: f64,
    pub verbose: bool,
    pub thresholds: Thresholds,
    /// Allocation sites and heap snapshots (see [`crate::culprit`]).
    pub culprit: CulpritOptions,
    /// Notified to end the run now as if interrupted (the binary's output was closed): the
    /// target is stopped and the outcome is `interrupted`.
    pub cancel: Arc<tokio::sync::Notify>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            command: Vec::new(),
            heap_mb: 128,
            port: None,
            plan: default_plan(),
            max_requests: None,
            max_load: None,
            warmup: Duration::from_millis(1500),
            round: Duration::from_millis(600),
            idle: Duration::from_millis(2500),
            max_duration: Duration::from_secs(60),
            start_timeout: Duration::from_secs(30),
            prod_rps: None,
            prod_heap_mb: 2048.0,
            verbose: false,
            thresholds: Thresholds::default(),
            culprit: CulpritOptions::default(),
            cancel: Arc::default(),
        }
    }
}

/// `GET /` over 16 connections: the plan `run` uses when given no load options.
pub fn default_plan() -> Plan {
    let ep = Endpoint::new("default", "GET", "/", &[], Template::literal(Vec::new()))
        .expect("GET / is a valid endpoint");
    let mut plan = Plan::new(leakhound_load::Target::local(0), vec![ep]);
    plan.connections = 16;
    plan
}

/// The finished run: the JSON report and the exit code it implies.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub report: RunReport,
    pub exit_code: i32,
}

/// Where progress lines go (stderr in the binary).
pub type Progress<'a> = &'a mut (dyn FnMut(&str) + Send);

struct State {
    inspector: Option<Inspector>,
    serving_pid: u32,
    heap_limit: f64,
    samples: Vec<Sample>,
    /// The load engine; out of here (on a blocking thread) while a round runs.
    engine: Option<Engine>,
    counters: Arc<Counters>,
    stop: StopHandle,
    /// The engine's cumulative summary after the last finished round.
    summary: Option<Summary>,
    rounds: Vec<RoundOut>,
    /// Time under load so far (for `-d`).
    load_time: Duration,
    failure: Option<String>,
    died: bool,
    assessment: Option<Assessment>,
    load_started: Option<(Instant, f64, f64)>,
    load_ended: Option<(Instant, f64, f64)>,
    started: Instant,
    culprit: Culprit,
    /// The port really used, start-up warnings, and whether the target ran out of memory
    /// before it listened (a failed target, not a leak).
    startup: Startup,
}

/// Run the whole loop. Errors are tool errors (exit 2); every other ending is an outcome.
pub async fn run(opts: &RunOptions, progress: Progress<'_>) -> anyhow::Result<RunOutcome> {
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
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
        assessment: None,
        load_started: None,
        load_ended: None,
        started: Instant::now(),
        culprit: Culprit::new(&opts.culprit),
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
    let mut outcome = conclude(opts, port, &target, &st, interrupted);
    st.culprit.fill(&mut outcome.report);
    st.startup.fill(&mut outcome.report);
    Ok(outcome)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn drive(
    opts: &RunOptions,
    target: &mut Target,
    st: &mut State,
    progress: Progress<'_>,
) -> anyhow::Result<()> {
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
        "heap limit: {:.0} MB (v8 heap_size_limit of pid {})",
        stats.heap_size_limit / MIB,
        st.serving_pid
    ));
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
    if let Some(l) = st.load_started.as_mut() {
        l.0 += paused.elapsed();
    }
    // 4. Rounds until the evidence is clear.
    let mut leak_streak = 0;
    loop {
        if st.started.elapsed() + opts.round + opts.idle > opts.max_duration {
            progress("time budget reached (--max-duration)");
            break;
        }
        if let Some(why) = load_budget_spent(opts, st) {
            progress(why);
            break;
        }
        load_round(opts, st, target, opts.round).await;
        if !take_sample(st, target, Phase::Load, progress).await {
            break;
        }
        let load: Vec<Sample> = st
            .samples
            .iter()
            .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
            .copied()
            .collect();
        let a = assess(&load, &opts.thresholds);
        st.assessment = Some(a);
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
        leak_streak = if a.leak().is_some() {
            leak_streak + 1
        } else {
            0
        };
        if leak_streak >= 2 || near_limit {
            progress("retained memory keeps growing with requests: leak suspected");
            break;
        }
        if a.stable() {
            progress("retained memory is flat after warm-up");
            break;
        }
    }
    let (a1, p1) = gc_now(target);
    st.load_ended = Some((Instant::now(), a1, p1));
    if !st.died {
        st.culprit.after_load(st.inspector.as_ref(), progress).await;
    }
    // 5. Idle, then the last sample.
    if !st.died {
        progress(&format!("idle: {:?} without load", opts.idle));
        tokio::time::sleep(opts.idle).await;
        if take_sample(st, target, Phase::Idle, progress).await {
            st.culprit.after_idle(st.inspector.as_ref(), progress).await;
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
fn load_budget_spent(opts: &RunOptions, st: &State) -> Option<&'static str> {
    if opts
        .max_requests
        .is_some_and(|n| st.counters.completed.load(Ordering::Relaxed) >= n)
    {
        return Some("request budget reached (-n)");
    }
    if opts.max_load.is_some_and(|d| st.load_time >= d) {
        return Some("load time budget reached (-d)");
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

/// With `npm start` or `npx tsx`, several node processes open inspectors: use the one whose
/// process owns the listening socket.
async fn pick_inspector(
    target: &mut Target,
    owner: Option<u32>,
) -> anyhow::Result<(Inspector, u32)> {
    let t = Duration::from_secs(3);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let banners = target.captured.lock().unwrap().banners.clone();
        let mut fallback = None;
        for url in banners.iter().rev() {
            let Ok(ins) = Inspector::connect(url, t).await else {
                continue;
            };
            let Ok(pid) = ins.pid(t).await else { continue };
            if owner.is_none_or(|o| o == pid) {
                return Ok((ins, pid));
            }
            if fallback.is_none() {
                fallback = Some((ins, pid));
            } else {
                ins.close().await;
            }
        }
        if Instant::now() > deadline {
            return fallback.ok_or_else(|| {
                anyhow::anyhow!(
                    "the target printed no usable inspector banner (is it a Node process?)"
                )
            });
        }
        if let Some(f) = fallback {
            if banners.len() > 1 && owner.is_none() {
                return Ok(f);
            }
            f.0.close().await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
        "{:>6.1}s {:<8} {:>10} req  heap {:>7.2} MB  external {:>7.2} MB  rss {:>7.1} MB",
        s.t_s,
        format!("{phase:?}").to_lowercase(),
        thousands(s.requests),
        s.heap_used / MIB,
        s.external / MIB,
        s.rss / MIB
    ));
    st.samples.push(s);
    true
}

fn conclude(
    opts: &RunOptions,
    port: u16,
    target: &Target,
    st: &State,
    interrupted: bool,
) -> RunOutcome {
    let cap = target.captured.lock().unwrap();
    let trace = cap.trace.analysis();
    let oom = cap.oom || trace.oom;
    let requests = st.counters.completed.load(Ordering::Relaxed);
    let duration_s = st.started.elapsed().as_secs_f64();
    let load_secs = match (st.load_started, st.load_ended) {
        (Some((a, _, _)), Some((b, _, _))) => (b - a).as_secs_f64(),
        (Some((a, _, _)), None) => a.elapsed().as_secs_f64(),
        _ => 0.0,
    };
    // Throughput over the time under load (the engine's own clock), else over the load window.
    let rps = match &st.summary {
        Some(s) if s.requests_per_sec > 0.0 => s.requests_per_sec,
        _ if load_secs > 0.0 => requests as f64 / load_secs,
        _ => 0.0,
    };
    let (http_errors, transport_errors) = st.summary.as_ref().map_or((0, 0), |s| {
        (
            s.status_classes
                .iter()
                .filter(|(k, _)| k.as_str() >= "4xx")
                .map(|(_, n)| n)
                .sum(),
            s.errors.values().sum(),
        )
    });
    let mut evidence = Vec::new();
    let mut verdict = Verdict::Inconclusive;
    let mut kind: Option<LeakKind> = None;
    let mut code = exit_code::INCONCLUSIVE;
    let mut failure = st.failure.clone();
    let a = st.assessment;
    let load: Vec<&Sample> = st
        .samples
        .iter()
        .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
        .collect();
    let idle = st.samples.iter().find(|s| s.phase == Phase::Idle);
    let mut bpr = 0.0;
    let mut fit = None;
    let mut mk_p = None;

    if oom && !st.startup.oom_before_listening {
        verdict = Verdict::Leak;
        kind = Some(LeakKind::JsHeap);
        code = exit_code::LEAK;
        failure = None;
        evidence.push(format!(
            "the target ran out of memory (JavaScript heap out of memory) after {} requests, heap limit {:.0} MB",
            thousands(requests),
            st.heap_limit / MIB
        ));
        if let Some(a) = a {
            if let Some(f) = a.heap.fit {
                bpr = f.slope.max(0.0);
                fit = Some(f);
                mk_p = Some(a.heap.mk_p);
            }
        }
        if let Some(f) = trace
            .oom_report
            .as_ref()
            .and_then(|o| o.fatal_line.as_ref())
        {
            evidence.push(format!("V8: {}", f.trim()));
        }
        for l in cap.gc.last_lines.iter().rev().take(3).rev() {
            evidence.push(format!("last GC: {l}"));
        }
        evidence.extend(
            trace
                .evidence
                .iter()
                .filter(|e| !e.contains("needed to judge"))
                .take(3)
                .map(|e| format!("GC trace: {e}")),
        );
    } else if interrupted {
        failure = Some("interrupted before a verdict".into());
        verdict = Verdict::Interrupted;
        code = exit_code::INTERRUPTED;
    } else if st.died {
        failure = Some("the target exited under load without an out-of-memory error".into());
        verdict = Verdict::TargetFailed;
        code = exit_code::TARGET_FAILED;
    } else if failure.is_some() {
        verdict = Verdict::TargetFailed;
        code = exit_code::TARGET_FAILED;
    } else if let Some(a) = a {
        let leak = a.leak();
        let s = a.series(leak);
        fit = s.fit;
        mk_p = Some(s.mk_p);
        let what = match leak {
            Some(LeakKind::External) => "external (Buffer/ArrayBuffer) memory",
            _ => "retained heap",
        };
        let first = load.first().copied();
        let last = load.last().copied();
        if let (Some(k), Some(f), Some(first), Some(last)) = (leak, s.fit, first, last) {
            let val = |x: &Sample| match k {
                LeakKind::External => x.external,
                LeakKind::Rss => x.rss,
                LeakKind::JsHeap | LeakKind::None => x.heap_used,
            };
            if idle.is_some_and(|i| shrank_when_idle(val(first), val(last), val(i))) {
                verdict = Verdict::NoLeak;
                code = exit_code::NO_LEAK;
                let i = idle.unwrap();
                evidence.push(format!(
                    "{what} grew from {:.1} to {:.1} MB under load but fell back to {:.1} MB when idle: an expiring cache, not a leak",
                    val(first) / MIB, val(last) / MIB, val(i) / MIB
                ));
            } else {
                verdict = Verdict::Leak;
                kind = Some(k);
                code = exit_code::LEAK;
                bpr = f.slope;
                evidence.push(format!(
                    "{what} grew {:.1} MB over {} requests ({:.0} B/request, 95% CI {:.0}–{:.0}, R²={:.2})",
                    s.growth / MIB,
                    thousands(s.requests as u64),
                    f.slope,
                    f.lo,
                    f.hi,
                    f.r2
                ));
                evidence.push(format!(
                    "Mann–Kendall trend over {} rounds: p={:.2e}; still growing in the late rounds ({:.0} B/request, no plateau)",
                    load.len(),
                    s.mk_p,
                    s.late.map_or(0.0, |l| l.slope)
                ));
                if let Some(i) = idle {
                    evidence.push(format!(
                        "after {:?} idle and a forced GC, {what} stayed at {:.1} MB",
                        opts.idle,
                        val(i) / MIB
                    ));
                }
            }
        } else if a.stable() {
            verdict = Verdict::NoLeak;
            code = exit_code::NO_LEAK;
            let l = a.heap.late.unwrap_or(a.heap.fit.unwrap());
            bpr = a.heap.fit.map_or(0.0, |f| f.slope.max(0.0));
            evidence.push(format!(
                "retained heap settled at {:.1} MB: the late rounds changed by {:+.0} KB ({:.1} B/request, 95% CI {:.1}–{:.1})",
                last.map_or(0.0, |s| s.heap_used) / MIB,
                a.heap.late_growth / KIB,
                l.slope,
                l.lo,
                l.hi
            ));
            if a.heap.growth > opts.thresholds.min_growth {
                evidence.push(format!(
                    "early growth of {:.1} MB stopped (a cache filling up, or warm-up)",
                    a.heap.growth / MIB
                ));
            }
            evidence.push(format!(
                "external memory changed by {:+.0} KB in the late rounds",
                a.external.late_growth / KIB
            ));
        } else {
            evidence.push(format!(
                "no clear trend within the time budget: {:.0} B/request (95% CI {:.0}–{:.0}), Mann–Kendall p={:.3}",
                s.fit.map_or(0.0, |f| f.slope),
                s.fit.map_or(0.0, |f| f.lo),
                s.fit.map_or(0.0, |f| f.hi),
                s.mk_p
            ));
        }
        let _ = Trend::Undecided;
    }
    if let Some(f) = &failure {
        if code == exit_code::TARGET_FAILED {
            evidence.push(f.clone());
        }
    }
    // Allocation pressure: allocation and GC time during load, from the GC trace.
    let (mut alloc_bpr, mut gc_share, mut pressure) = (None, None, None);
    if let (Some((t0, a0, p0)), Some((t1, a1, p1))) = (st.load_started, st.load_ended) {
        let secs = (t1 - t0).as_secs_f64();
        if requests > 0 && secs > 0.0 {
            let per = (a1 - a0) / requests as f64;
            let share = leakhound_gctrace::gc_share(p1 - p0, secs * 1000.0).unwrap_or(0.0);
            alloc_bpr = Some(per);
            gc_share = Some(share);
            let rate = (a1 - a0) / secs / MIB;
            if verdict == Verdict::NoLeak && (per > 24.0 * KIB || share > 0.2) {
                pressure = Some(format!(
                    "allocation pressure without retention: {:.1} KB allocated per request ({rate:.0} MB/s), {:.1}% of the time in GC, while the live set stays flat",
                    per / KIB,
                    share * 100.0
                ));
            }
        }
    }
    let mut projection = None;
    let mut projection_s = None;
    if verdict == Verdict::Leak && bpr > 0.0 {
        let prod_rps = opts.prod_rps.unwrap_or(rps);
        let used = load.first().map_or(0.0, |s| s.heap_used);
        if let Some(secs) = time_to_fill_s(opts.prod_heap_mb * MIB, used, bpr, prod_rps) {
            projection_s = Some(secs);
            projection = Some(format!(
                "at {prod_rps:.0} req/s a {} heap fills in about {}",
                human_mb(opts.prod_heap_mb),
                human_duration(secs)
            ));
        }
    }
    let report = RunReport {
        schema: SCHEMA.into(),
        verdict,
        leak_kind: kind.unwrap_or(LeakKind::None),
        oom,
        duration_s,
        requests,
        retained_bytes_per_request: bpr,
        heap_limit_bytes: st.heap_limit as u64,
        evidence,
        samples: st
            .samples
            .iter()
            .map(|s| RunSample {
                t_s: s.t_s,
                requests: s.requests,
                heap_used: s.heap_used as u64,
                external: s.external as u64,
                array_buffers: s.array_buffers as u64,
                rss: s.rss as u64,
                phase: s.phase,
            })
            .collect(),
        retained_bytes_per_request_ci: fit.map(|f| [f.lo, f.hi]),
        r_squared: fit.map(|f| f.r2),
        mann_kendall_p: mk_p,
        requests_per_second: rps,
        http_errors,
        transport_errors,
        projection,
        projection_seconds: projection_s,
        allocation_pressure: pressure,
        allocated_bytes_per_request: alloc_bpr,
        gc_time_share: gc_share,
        gc_count: cap.gc.gcs,
        major_gc_count: cap.gc.majors,
        gc_last_lines: if trace.last_gc_lines.is_empty() {
            cap.gc.last_lines.iter().cloned().collect()
        } else {
            trace.last_gc_lines.clone()
        },
        gc_trace: Some(trace.clone()),
        mem_lines: cap
            .mem_lines
            .iter()
            .map(|m| MemLineOut {
                label: m.label.clone(),
                mb: m.mb,
            })
            .collect(),
        target_failed: if code == exit_code::TARGET_FAILED {
            failure
        } else {
            None
        },
        target_stderr_tail: cap.stderr_tail.iter().cloned().collect(),
        command: opts.command.clone(),
        port,
        target_pid: st.serving_pid,
        gc_events: cap.gc_events.events_of(st.serving_pid),
        rounds: st.rounds.clone(),
        load: st.summary.clone(),
        ..Default::default()
    };
    RunOutcome {
        report,
        exit_code: code,
    }
}
