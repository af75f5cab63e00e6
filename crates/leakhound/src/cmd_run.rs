//! `leakhound run [options] -- <command> [args...]`: the whole loop, wired to the session crate.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use leakhound_report::gate::{self, Budgets};
use leakhound_report::render::{Render, Text};
use leakhound_report::run_schema::RunReport;
use leakhound_report::{html, markdown, units};
use leakhound_session::{LoadCmd, RunOptions};

use crate::exit::{self, Outcome};
use crate::load_args::{parse_duration, parse_positive_duration, Aim, LoadArgs};
use crate::note;
use crate::output::{Human, Output, Outputs};

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
  leakhound run --json run.json --report report.html --markdown summary.md \\
    --fail-on leak -- npm start
  leakhound run --json - -- node app.js | jq .verdict

Outputs: --json, --report and --markdown take FILE or - (stdout; the human text then goes to
stderr). Every output is opened before the target starts: a bad path is exit 2 at once.

Exit codes:
  0   no leak                      1   leak (an out-of-memory crash is a leak)
  2   usage or tool error          3   inconclusive, or output closed before a verdict
  4   the target failed otherwise (did not start, crashed without OOM, ran out of memory
      while starting, a setup step failed, or more than half of the requests failed: see
      --expect-status)
  10  --fail-on pressure: an allocation-pressure finding
  11  --max-retained-per-request exceeded
  12  --max-gc-share exceeded
  130 interrupted (Ctrl-C)
  With several exceeded budgets all are named; the exit code is the first one's, in the order
  leak, pressure, retained, GC share. A failed target (4) and an interruption (130) keep theirs.")]
pub struct RunCmd {
    #[command(flatten)]
    load: LoadArgs,
    /// Port for the target (set as PORT); a free one by default
    #[arg(long)]
    port: Option<u16>,
    /// Old-space size given to node (--max-old-space-size): MB as a bare number, or 512MB, 1GB
    #[arg(long = "heap-mb", value_name = "MB", default_value = "128", value_parser = units::parse_size_mb)]
    heap_mb: f64,
    /// Stop within this time, verdict or not
    #[arg(long = "max-duration", value_name = "TIME", default_value = "60s", value_parser = parse_positive_duration)]
    max_duration: Duration,
    /// How long the target may take to accept connections
    #[arg(long = "start-timeout", value_name = "TIME", default_value = "30s", value_parser = parse_positive_duration)]
    start_timeout: Duration,
    /// Length of the idle phase at the end (e.g. 2s, 500ms)
    #[arg(long, value_name = "TIME", default_value = "2500ms", value_parser = parse_duration)]
    idle: Duration,
    /// Production request rate for the projection, requests per second (default: the rate observed)
    #[arg(long = "prod-rps", value_name = "R")]
    prod_rps: Option<f64>,
    /// Production heap size for the projection: MB as a bare number, or 2GB, 512MB
    #[arg(long = "prod-heap-mb", value_name = "MB", default_value = "2048", value_parser = units::parse_size_mb)]
    prod_heap_mb: f64,
    /// Write the leakhound.run/v1 result to FILE (`-`: stdout, the human text then on stderr)
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report (works offline) to FILE (`-`: stdout)
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// Write a short Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment) to FILE (`-`: stdout)
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Fail on these findings: leak, pressure (comma-separated; exit 1 and 10)
    #[arg(long = "fail-on", value_name = "LIST")]
    fail_on: Vec<String>,
    /// Fail (exit 11) when more is retained per request: 1KB, 512B, or bytes as a bare number
    #[arg(long = "max-retained-per-request", value_name = "SIZE", value_parser = units::parse_size)]
    max_retained_per_request: Option<f64>,
    /// Fail (exit 12) when GC takes a larger share of the load time: 10% or 10 (a bare number
    /// above 1 is a percent), or a share such as 0.1
    #[arg(long = "max-gc-share", value_name = "PERCENT", value_parser = units::parse_percent)]
    max_gc_share: Option<f64>,
    /// Drive the target with your own load instead: CMD runs through `sh -c` once the target
    /// listens (with PORT, URL=http://127.0.0.1:PORT and LEAKHOUND=1 set) and is ended with its
    /// process group; lines `leakhound:count N` on its stdout (N cumulative) make the verdict
    /// bytes per unit of work, else bytes per second
    #[arg(long = "load-cmd", value_name = "CMD", conflicts_with_all = ["config", "openapi", "har", "endpoint", "connections", "rate"])]
    load_cmd: Option<String>,
    /// With --load-cmd: sample the target (after a forced GC) this often
    #[arg(long = "sample-every", value_name = "TIME", default_value = "2s", value_parser = parse_positive_duration)]
    sample_every: Duration,
    /// Leak-test a function, not a server: node imports FILE (CommonJS or ESM) and calls its
    /// default export over and over; the verdict is bytes per iteration. The arguments after
    /// `--` are node's own flags
    #[arg(long, value_name = "FILE.js", conflicts_with_all = ["load_cmd", "config", "openapi", "har", "endpoint", "connections", "rate"])]
    workload: Option<PathBuf>,
    /// With --workload: calls in flight at once
    #[arg(long, value_name = "N", default_value = "1", requires = "workload")]
    concurrency: usize,
    /// Echo all of the target's output
    #[arg(short = 'v', long)]
    verbose: bool,
    #[command(flatten)]
    culprit: crate::culprit_args::CulpritArgs,
    /// The command that starts the service, after `--`
    #[arg(last = true, required_unless_present = "workload", num_args = 1..)]
    command: Vec<String>,
}

pub fn run(cmd: RunCmd) -> Outcome {
    anyhow::ensure!(cmd.heap_mb >= 16.0, "--heap-mb must be at least 16");
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
    let plan = load.plan(Aim::Child { port: 0 })?;
    // Every output is opened now, so a bad path is exit 2 before the target starts.
    let mut outs = Outputs::new(&load.inputs());
    let mut files = Files {
        json: outs.open_opt("--json", cmd.json.as_deref())?,
        report: outs.open_opt("--report", cmd.report.as_deref())?,
        markdown: outs.open_opt("--markdown", cmd.markdown.as_deref())?,
    };
    let human = outs.human();
    // Profiles are named after the --json file; with `-` there is none to name them after.
    let json_file = cmd.json.as_deref().filter(|p| *p != Path::new("-"));
    let culprit = cmd.culprit.options(json_file, &outs)?;
    // (A config of only [[setup]] steps leaves the one endpoint to --path: nothing to name.)
    let named = plan.endpoints.iter().all(|e| e.name != "default");
    if let Some(file) = load.endpoint_source().filter(|_| named) {
        let names: Vec<&str> = plan.endpoints.iter().map(|e| e.name.as_str()).collect();
        note!(
            "leakhound: driving endpoint{} `{}` of {}",
            if names.len() > 1 { "s" } else { "" },
            names.join("`, `"),
            file.display()
        );
    }
    let cancel = Arc::new(tokio::sync::Notify::new());
    let workload = match &cmd.workload {
        Some(f) => Some(crate::workload_args::prepare(
            f,
            cmd.concurrency,
            &cmd.command,
        )?),
        None => None,
    };
    let load_cmd = match (&workload, cmd.load_cmd) {
        (Some(_), _) => Some(None),
        (None, Some(c)) => Some(Some(c)),
        (None, None) => None,
    };
    let opts = RunOptions {
        command: workload.as_ref().map_or(cmd.command, |w| w.command.clone()),
        heap_mb: cmd.heap_mb.round() as u64,
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
        cancel: cancel.clone(),
        load_cmd: load_cmd.map(|command| LoadCmd {
            command,
            sample_every: cmd.sample_every,
        }),
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // A closed stderr (`leakhound run … 2>&1 | head -1`) cancels the run: the target is
    // stopped, the files asked for are written, and the exit code is 3 (no verdict yet).
    let closed = Arc::new(AtomicBool::new(false));
    let mut progress = {
        let closed = closed.clone();
        move |l: &str| {
            if closed.load(Ordering::Relaxed) {
                return;
            }
            let mut err = std::io::stderr().lock();
            if writeln!(err, "leakhound: {l}").is_err() {
                closed.store(true, Ordering::Relaxed);
                cancel.notify_one();
            }
        }
    };
    let outcome = rt.block_on(leakhound_session::run(&opts, &mut progress))?;
    let r = &outcome.report;
    // Cancelled by a closed pipe before a verdict: exit 3. (A pipe closed after the verdict,
    // while the culprit was being named, keeps the verdict's code.)
    if closed.load(Ordering::Relaxed) && outcome.exit_code == exit::INTERRUPTED {
        exit::reached(exit::INCONCLUSIVE);
        files.write(r, None)?;
        return Ok(exit::INCONCLUSIVE);
    }
    // Budgets judge a finished run; a target that failed or an interrupted run keeps its code.
    let mut code = outcome.exit_code;
    let mut failures = Vec::new();
    if !matches!(code, exit::TARGET_FAILED | exit::INTERRUPTED) {
        failures = gate::check(r, &budgets);
        if let Some(c) = gate::exit_code(&failures) {
            code = c;
        }
    }
    exit::reached(code);
    // The files are written even when the terminal text cannot be (a closed pipe).
    let printed = human.write(|w| {
        leakhound_report::render::run::print(r, w)?;
        Text.render(failures.as_slice(), w)
    });
    files.write(r, Some(human))?;
    printed?;
    Ok(code)
}

/// The outputs of `run`, opened before it starts.
struct Files {
    json: Option<Output>,
    report: Option<Output>,
    markdown: Option<Output>,
}

impl Files {
    /// Write every output asked for, each even when another fails (a closed stdout under
    /// `--json -` must not cost the HTML report); the first error is returned. "wrote FILE"
    /// goes to stderr when `said` is given.
    fn write(&mut self, r: &RunReport, said: Option<Human>) -> anyhow::Result<()> {
        let mut results = Vec::new();
        if let Some(o) = &mut self.json {
            results.push(o.write_json(r));
        }
        if let Some(o) = &mut self.report {
            results.push(
                o.write_all(html::render(r).as_bytes())
                    .map(|()| wrote(o, said)),
            );
        }
        if let Some(o) = &mut self.markdown {
            results.push(
                o.write_all(markdown::render(r).as_bytes())
                    .map(|()| wrote(o, said)),
            );
        }
        results.into_iter().collect()
    }
}

fn wrote(o: &Output, said: Option<Human>) {
    if said.is_some() && !o.is_stdout() {
        note!("leakhound: wrote {}", o.path().display());
    }
}
