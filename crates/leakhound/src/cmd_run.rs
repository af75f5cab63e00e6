//! `leakhound run [options] -- <command> [args...]`: the whole loop, wired to the session crate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use leakhound_report::gate::{self, Budgets};
use leakhound_report::run_schema::{RunReport, Verdict};
use leakhound_report::{html, markdown, units};
use leakhound_session::{exit_code, RunOptions};

use crate::exit::Outcome;
use crate::load_args::{Aim, LoadArgs};

/// `run`'s default connections (`load`'s is 50): enough to grow a leak quickly without
/// starving the target's event loop on a small machine.
const RUN_CONNECTIONS: usize = 16;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Load options in `run`:
  -c N     connections during the load rounds [default: 16]
  -q R     open model: R requests per second in every round (warm-up included)
  -n N     the whole run sends at most N requests (over all rounds), then it ends
  -d TIME  the whole run spends at most TIME under load (over all rounds), alongside
           --max-duration, which bounds the run itself
  The target is 127.0.0.1 on the child's port, at --path, or the --config's endpoints: the
  one named by --endpoint, or without it the weighted mix of all of them.

Examples:
  leakhound run -- node examples/leaky-server.js
  leakhound run --config examples/leakhound.toml --endpoint data -- node examples/leaky-server.js
  leakhound run --json run.json --report report.html --markdown summary.md --fail-on leak -- npm start

Exit codes:
  0   no leak                      1   leak (an out-of-memory crash is a leak)
  2   usage or tool error          3   inconclusive
  4   the target failed otherwise (did not start, crashed without OOM)
  10  --fail-on pressure: an allocation-pressure finding
  11  --max-retained-per-request exceeded
  12  --max-gc-share exceeded
  130 interrupted (Ctrl-C)
  With several exceeded budgets all are named; the exit code is the first one's, in the order
  leak, pressure, retained, GC share.")]
pub struct RunCmd {
    #[command(flatten)]
    load: LoadArgs,
    /// Path requested on the target [default: /] (not with --config)
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Which endpoint of --config to drive (default: the weighted mix of all of them)
    #[arg(long, value_name = "NAME")]
    endpoint: Option<String>,
    /// Port for the target (set as PORT); a free one by default
    #[arg(long)]
    port: Option<u16>,
    /// Old-space size given to node (--max-old-space-size), in MB
    #[arg(long = "heap-mb", default_value_t = 128)]
    heap_mb: u64,
    /// Stop within this time, verdict or not
    #[arg(long = "max-duration", default_value = "60s", value_parser = humantime::parse_duration)]
    max_duration: Duration,
    /// How long the target may take to accept connections
    #[arg(long = "start-timeout", default_value = "30s", value_parser = humantime::parse_duration)]
    start_timeout: Duration,
    /// Length of the idle phase at the end
    #[arg(long, default_value = "2500ms", value_parser = humantime::parse_duration)]
    idle: Duration,
    /// Production request rate for the projection (default: the rate observed)
    #[arg(long = "prod-rps")]
    prod_rps: Option<f64>,
    /// Production heap size for the projection, in MB
    #[arg(long = "prod-heap-mb", default_value_t = 2048.0)]
    prod_heap_mb: f64,
    /// Write the leakhound.run/v1 result to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report (works offline) to this file
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// Write a short Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment) to this file
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Fail on these findings: leak, pressure (comma-separated; exit 1 and 10)
    #[arg(long = "fail-on", value_name = "LIST")]
    fail_on: Vec<String>,
    /// Fail (exit 11) when more is retained per request, e.g. 1KB, 512B
    #[arg(long = "max-retained-per-request", value_name = "SIZE", value_parser = units::parse_size)]
    max_retained_per_request: Option<f64>,
    /// Fail (exit 12) when GC takes a larger share of the load time, e.g. 10%
    #[arg(long = "max-gc-share", value_name = "PERCENT", value_parser = units::parse_percent)]
    max_gc_share: Option<f64>,
    /// Echo all of the target's output
    #[arg(short = 'v', long)]
    verbose: bool,
    #[command(flatten)]
    culprit: crate::culprit_args::CulpritArgs,
    /// The command that starts the service, after `--`
    #[arg(last = true, required = true, num_args = 1..)]
    command: Vec<String>,
}

pub fn run(cmd: RunCmd) -> Outcome {
    anyhow::ensure!(cmd.heap_mb >= 16, "--heap-mb must be at least 16");
    anyhow::ensure!(
        cmd.prod_heap_mb > 0.0 && cmd.prod_rps.is_none_or(|r| r > 0.0),
        "--prod-rps and --prod-heap-mb must be positive"
    );
    let mut budgets = Budgets {
        max_retained_per_request: cmd.max_retained_per_request,
        max_gc_share: cmd.max_gc_share,
        ..Budgets::default()
    };
    for list in &cmd.fail_on {
        budgets.set_fail_on(list).map_err(anyhow::Error::msg)?;
    }
    let mut load = cmd.load.clone();
    load.connections.get_or_insert(RUN_CONNECTIONS);
    let path = cmd.path.as_deref().unwrap_or("/");
    if load.config.is_some() {
        anyhow::ensure!(
            cmd.path.is_none(),
            "--path does not apply with --config: the endpoints' paths are used"
        );
    } else {
        anyhow::ensure!(cmd.endpoint.is_none(), "--endpoint needs --config");
    }
    let plan = load.plan(Aim::Child {
        port: 0,
        path,
        endpoint: cmd.endpoint.as_deref(),
    })?;
    if let Some(file) = &load.config {
        let names: Vec<&str> = plan.endpoints.iter().map(|e| e.name.as_str()).collect();
        eprintln!(
            "leakhound: driving endpoint{} `{}` of {}",
            if names.len() > 1 { "s" } else { "" },
            names.join("`, `"),
            file.display()
        );
    }
    let culprit = cmd.culprit.options(cmd.json.as_deref())?;
    let opts = RunOptions {
        command: cmd.command,
        heap_mb: cmd.heap_mb,
        port: cmd.port,
        plan,
        max_requests: load.requests,
        max_load: load.duration,
        idle: cmd.idle,
        max_duration: cmd.max_duration,
        start_timeout: cmd.start_timeout,
        prod_rps: cmd.prod_rps,
        prod_heap_mb: cmd.prod_heap_mb,
        verbose: cmd.verbose,
        culprit,
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut progress = |l: &str| eprintln!("leakhound: {l}");
    let outcome = rt.block_on(leakhound_session::run(&opts, &mut progress))?;
    let r = &outcome.report;
    println!();
    print_outcome(r, outcome.exit_code);
    write_outputs(r, &cmd.json, &cmd.report, &cmd.markdown)?;
    // Budgets judge a finished run; a target that failed or an interrupted run keeps its code.
    let mut code = outcome.exit_code;
    if !matches!(code, exit_code::TARGET_FAILED | exit_code::INTERRUPTED) {
        let failures = gate::check(r, &budgets);
        for f in &failures {
            println!("budget exceeded (exit {}): {}", f.exit_code(), f.message());
        }
        if let Some(c) = gate::exit_code(&failures) {
            code = c;
        }
    }
    Ok(code)
}

fn print_outcome(r: &RunReport, code: i32) {
    match code {
        exit_code::TARGET_FAILED => {
            println!(
                "TARGET FAILED: {}",
                r.target_failed.as_deref().unwrap_or("unknown")
            );
            if !r.target_stderr_tail.is_empty() {
                println!("last lines of the target's stderr:");
                for l in r.target_stderr_tail.iter().rev().take(15).rev() {
                    println!("  {l}");
                }
            }
        }
        exit_code::INTERRUPTED => println!("INTERRUPTED: no verdict"),
        _ => {
            let v = match (r.verdict, r.oom) {
                (Verdict::Leak, true) => "LEAK (out of memory)".to_string(),
                (Verdict::Leak, false) => format!("LEAK ({})", r.leak_kind),
                (Verdict::NoLeak, _) => "NO LEAK".to_string(),
                _ => "INCONCLUSIVE".to_string(),
            };
            println!("verdict: {v}");
            for e in &r.evidence {
                println!("  - {e}");
            }
            if let Some(p) = &r.allocation_pressure {
                println!("  - {p}");
            }
            println!(
                "  {} requests in {:.1}s ({:.0} req/s under load{}), {} HTTP errors, {} transport errors; heap limit {:.0} MB",
                r.requests,
                r.duration_s,
                r.requests_per_second,
                latency(r),
                r.http_errors,
                r.transport_errors,
                r.heap_limit_bytes as f64 / 1048576.0
            );
            if r.verdict == Verdict::Leak {
                println!("  retained: {:.0} B/request", r.retained_bytes_per_request);
            }
            if let Some(p) = &r.projection {
                println!("  projection: {p}");
            }
            print!("{}", leakhound_session::culprit::render(r));
            if let Some(m) = r.mem_lines.last() {
                println!(
                    "  the app's own [MEM] lines: {} seen, last `{}: {} MB`",
                    r.mem_lines.len(),
                    m.label,
                    m.mb
                );
            }
        }
    }
}

/// ", p50 1.2 ms, p99 8.4 ms" from the engine's summary, when there was one.
fn latency(r: &RunReport) -> String {
    match r.load.as_ref().and_then(|l| l.latency.as_ref()) {
        Some(l) => format!(", p50 {:.1} ms, p99 {:.1} ms", l.p50_ms, l.p99_ms),
        None => String::new(),
    }
}

fn write_outputs(
    r: &RunReport,
    json: &Option<PathBuf>,
    report: &Option<PathBuf>,
    md: &Option<PathBuf>,
) -> anyhow::Result<()> {
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    };
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(r).context("serialising the result")?;
        write(p, text + "\n")?;
    }
    if let Some(p) = report {
        write(p, html::render(r))?;
        eprintln!("leakhound: wrote {}", p.display());
    }
    if let Some(p) = md {
        write(p, markdown::render(r))?;
        eprintln!("leakhound: wrote {}", p.display());
    }
    Ok(())
}
