//! `leakhound attach`: watch a running Node process leakhound did not start (the work is in
//! the `leakhound-live` crate; this is flags, outputs and exit codes).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use leakhound_live::{AttachOptions, Hooks, Target};
use leakhound_report::render::{Html, Json, Markdown};
use leakhound_report::{openmetrics, units};
use leakhound_schema::Verdict;

use crate::exit::{self, Outcome};
use crate::load_args::parse_positive_duration;
use crate::metrics_server;
use crate::output::Outputs;

const AFTER_HELP: &str = "\
What attach does to the process (docs/attach.md): with a PID it sends SIGUSR1, which makes
Node open its inspector on 127.0.0.1:9229 (or the process's --inspect-port), and closes it
again on detach; only a Node process that handles SIGUSR1 is signalled. It installs a GC
observer (removed on detach); --force-gc pauses the process for a full GC before each sample,
--snapshots for each snapshot (the pause is printed). Ctrl-C detaches the same way.

The verdict regresses the post-GC heap on time (Theil-Sen slope in MiB/hour with its 95%
interval, Mann-Kendall p < 0.01, at least 1 MiB and 1% of the heap over the watch), with the
time to out-of-memory against the process's own heap limit.

Exit codes:
  0  no leak
  1  leak
  3  inconclusive (too few post-GC points, or rising without significance)
  2  usage or tool error (non-loopback --inspect, no inspector within 10 s of SIGUSR1 ...)
  130 interrupted (Ctrl-C); the process was restored

Examples:
  leakhound attach 4242 --force-gc -d 30s
  leakhound attach --inspect 127.0.0.1:9229 -d 10m --sample-every 30s --json - | jq .verdict
  leakhound attach 4242 --alloc-sites --snapshots ./snaps --report attach.html
  leakhound attach 4242 -d 1h --metrics 127.0.0.1:9464";

/// Watch a running Node process (by PID, or an open inspector) and decide whether it leaks.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["pid", "inspect"])))]
pub struct AttachCmd {
    /// The Node process to watch: SIGUSR1 opens its inspector, closed again on detach.
    #[arg(value_name = "PID")]
    pub pid: Option<u32>,
    /// Use an inspector that is already open (node --inspect=127.0.0.1:PORT); loopback only,
    /// it stays open after detach.
    #[arg(long, value_name = "ADDR", conflicts_with = "pid")]
    pub inspect: Option<String>,
    /// How long to watch (e.g. 60s, 10m, 2h).
    #[arg(short = 'd', long, value_name = "DURATION", default_value = "60s", value_parser = parse_positive_duration)]
    pub duration: Duration,
    /// Time between two samples.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_positive_duration)]
    pub sample_every: Duration,
    /// Force a full GC before each sample (pauses the process for the GC); without it, the
    /// heap after each major GC the process does by itself is used.
    #[arg(long)]
    pub force_gc: bool,
    /// Sample allocations over the watch and name the sites of what survived.
    #[arg(long)]
    pub alloc_sites: bool,
    /// Bytes between two samples of the allocation profiler (e.g. 32KB, 128KB).
    #[arg(long, value_name = "SIZE", requires = "alloc_sites", value_parser = parse_interval)]
    pub sampling_interval: Option<u64>,
    /// Take heap snapshots into DIR at the start, middle and end of the watch and compare
    /// them (each pauses the process; refused without about 2x the heap free).
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Serve the live figures as OpenMetrics at http://ADDR/metrics (loopback only).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Write the leakhound.attach/v1 JSON to FILE (`-`: stdout; the text then goes to stderr).
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE|-")]
    pub report: Option<PathBuf>,
    /// Write a Markdown summary to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE|-")]
    pub markdown: Option<PathBuf>,
}

/// Bytes between allocation samples when `--sampling-interval` is not given (as `run`).
const DEFAULT_SAMPLING_INTERVAL: u64 = 32 * 1024;
/// How long to wait for the inspector after SIGUSR1.
const DISCOVER_WAIT: Duration = Duration::from_secs(10);

fn parse_interval(s: &str) -> Result<u64, String> {
    let v = units::parse_size(s).map_err(|e| e.to_string())?;
    if !(1.0..=1073741824.0).contains(&v) {
        return Err(format!("`{s}` must be between 1 byte and 1 GB"));
    }
    Ok(v.round() as u64)
}

pub fn run(cmd: AttachCmd) -> Outcome {
    // A non-loopback inspector is refused before anything else happens.
    let target = match (&cmd.inspect, cmd.pid) {
        (Some(a), _) => Target::Inspect(leakhound_live::parse_inspect_addr(a)?),
        (None, Some(pid)) => Target::Pid(pid),
        (None, None) => bail!("give a PID or --inspect ADDR"),
    };
    if cmd.sample_every > cmd.duration {
        bail!(
            "--sample-every {} is longer than the watch (-d {})",
            humantime::format_duration(cmd.sample_every),
            humantime::format_duration(cmd.duration)
        );
    }
    let mut outs = Outputs::new::<PathBuf>(&[]);
    let mut json = outs.open_opt("--json", cmd.json.as_deref())?;
    let mut report = outs.open_opt("--report", cmd.report.as_deref())?;
    let mut markdown = outs.open_opt("--markdown", cmd.markdown.as_deref())?;
    if let Some(d) = &cmd.snapshots {
        outs.dir("--snapshots", d)?;
    }
    let human = outs.human();
    let metrics = match &cmd.metrics {
        Some(a) => {
            let addr = metrics_server::loopback_addr(a)?;
            let e = metrics_server::Exposition::default();
            let at = metrics_server::serve(addr, e.clone())?;
            crate::note!("leakhound: serving OpenMetrics at http://{at}/metrics");
            Some(e)
        }
        None => None,
    };
    let opts = AttachOptions {
        target,
        duration: cmd.duration,
        sample_every: cmd.sample_every,
        force_gc: cmd.force_gc,
        alloc_sites: cmd.alloc_sites,
        sampling_interval: cmd.sampling_interval.unwrap_or(DEFAULT_SAMPLING_INTERVAL),
        snapshots_dir: cmd.snapshots.as_deref().map(absolute),
        discover_wait: DISCOVER_WAIT,
        base: std::env::current_dir().ok(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Ctrl-C or SIGTERM at any moment: stop the watch; the process is restored on detach.
    rt.spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
        let _ = stop_tx.send(true);
    });
    let closed = Arc::new(AtomicBool::new(false));
    let progress = {
        let closed = closed.clone();
        move |l: &str| {
            if l.is_empty() || closed.load(Ordering::Relaxed) {
                return;
            }
            use std::io::Write as _;
            if writeln!(std::io::stderr().lock(), "leakhound: {l}").is_err() {
                closed.store(true, Ordering::Relaxed);
            }
        }
    };
    let mut update = |r: &leakhound_schema::attach::AttachReport| {
        if let Some(m) = &metrics {
            m.set(openmetrics::attach_exposition(r));
        }
    };
    let mut hooks = Hooks {
        progress: &progress,
        update: &mut update,
    };
    let r = rt.block_on(leakhound_live::attach(&opts, &mut hooks, stop_rx))?;
    let code = match r.verdict {
        Verdict::Leak => exit::LEAK,
        Verdict::NoLeak => exit::OK,
        Verdict::Interrupted => exit::INTERRUPTED,
        Verdict::Inconclusive | Verdict::TargetFailed => exit::INCONCLUSIVE,
    };
    exit::reached(code);
    if let Some(o) = &mut json {
        o.render(&Json, &r)?;
    }
    if let Some(o) = &mut report {
        o.render(&Html, &r)?;
    }
    if let Some(o) = &mut markdown {
        o.render(&Markdown, &r)?;
    }
    human.render(&r)?;
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(code)
}

/// Snapshot paths are reported as given but written where the user meant.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
