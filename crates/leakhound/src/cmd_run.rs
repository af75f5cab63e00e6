//! `leakhound run [options] -- <command> [args...]`: the whole loop, wired to the session crate.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use leakhound_session::{exit_code, RunOptions};

use crate::exit::Outcome;

#[derive(clap::Args, Debug)]
pub struct RunCmd {
    /// Concurrent connections during load rounds.
    #[arg(short = 'c', long = "connections", default_value_t = 16)]
    connections: usize,
    /// HTTP method.
    #[arg(short = 'm', long = "method", default_value = "GET")]
    method: String,
    /// Extra request header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Request body (`@file` reads a file). Implies POST unless -m is given.
    #[arg(short = 'b', long = "body")]
    body: Option<String>,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Path requested on the target.
    #[arg(long, default_value = "/")]
    path: String,
    /// Named endpoints (the seed's CONFIG as TOML): the request is taken from one of them;
    /// its target host and port are ignored (the child's port is used).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Which endpoint of --config to drive (default: the first with a non-zero weight).
    #[arg(long)]
    endpoint: Option<String>,
    /// Port for the target (set as PORT); a free one by default.
    #[arg(long)]
    port: Option<u16>,
    /// Old-space size given to node (--max-old-space-size), in MB.
    #[arg(long = "heap-mb", default_value_t = 128)]
    heap_mb: u64,
    /// Stop within this time, verdict or not.
    #[arg(long = "max-duration", default_value = "60s", value_parser = humantime::parse_duration)]
    max_duration: Duration,
    /// How long the target may take to accept connections.
    #[arg(long = "start-timeout", default_value = "30s", value_parser = humantime::parse_duration)]
    start_timeout: Duration,
    /// Length of the idle phase at the end.
    #[arg(long, default_value = "2500ms", value_parser = humantime::parse_duration)]
    idle: Duration,
    /// Production request rate for the projection (default: the rate observed).
    #[arg(long = "prod-rps")]
    prod_rps: Option<f64>,
    /// Production heap size for the projection, in MB.
    #[arg(long = "prod-heap-mb", default_value_t = 2048.0)]
    prod_heap_mb: f64,
    /// Write the leakhound.run/v1 result to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Echo all of the target's output.
    #[arg(short = 'v', long)]
    verbose: bool,
    #[command(flatten)]
    culprit: crate::culprit_args::CulpritArgs,
    /// The command that starts the service, after `--`.
    #[arg(last = true, required = true, num_args = 1..)]
    command: Vec<String>,
}

fn parse_header(h: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = h
        .split_once(':')
        .with_context(|| format!("header `{h}` is not `Name: value`"))?;
    let k = k.trim();
    anyhow::ensure!(
        !k.is_empty() && !k.contains(char::is_whitespace),
        "header `{h}` has no valid name"
    );
    Ok((k.to_string(), v.trim().to_string()))
}

pub fn run(cmd: RunCmd) -> Outcome {
    anyhow::ensure!(cmd.connections > 0, "-c/--connections must be at least 1");
    anyhow::ensure!(cmd.heap_mb >= 16, "--heap-mb must be at least 16");
    anyhow::ensure!(
        cmd.prod_heap_mb > 0.0 && cmd.prod_rps.is_none_or(|r| r > 0.0),
        "--prod-rps and --prod-heap-mb must be positive"
    );
    let mut headers = cmd
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut path = cmd.path.clone();
    let mut method = cmd.method.clone();
    let mut config_body = None;
    if let Some(file) = &cmd.config {
        let config = leakhound_load::Config::load(file)?;
        let (name, ep) = match &cmd.endpoint {
            Some(n) => config
                .endpoints
                .get_key_value(n)
                .with_context(|| format!("{}: no endpoint named `{n}`", file.display()))?,
            None => config
                .endpoints
                .iter()
                .find(|(_, e)| e.weight > 0)
                .with_context(|| {
                    format!("{}: no endpoint with a non-zero weight", file.display())
                })?,
        };
        eprintln!("leakhound: driving endpoint `{name}` of {}", file.display());
        path = ep.path.clone();
        method = ep.method.clone();
        for (k, v) in &ep.headers {
            headers.push((k.clone(), v.clone()));
        }
        config_body = ep.body.as_ref().map(|b| b.as_bytes().to_vec());
    } else {
        anyhow::ensure!(cmd.endpoint.is_none(), "--endpoint needs --config");
    }
    let body = match cmd.body.as_deref() {
        Some(b) if b.starts_with('@') => {
            Some(std::fs::read(&b[1..]).with_context(|| format!("reading body file {}", &b[1..]))?)
        }
        Some(b) => Some(b.as_bytes().to_vec()),
        None => config_body,
    };
    let method = if body.is_some() && method == "GET" && cmd.config.is_none() {
        "POST".to_string()
    } else {
        method.to_ascii_uppercase()
    };
    anyhow::ensure!(
        path.starts_with('/'),
        "the request path must start with `/`, got `{path}`"
    );
    let culprit = cmd.culprit.options(cmd.json.as_deref())?;
    let opts = RunOptions {
        command: cmd.command,
        heap_mb: cmd.heap_mb,
        port: cmd.port,
        path,
        method,
        headers,
        body,
        connections: cmd.connections,
        request_timeout: cmd.timeout,
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
    match outcome.exit_code {
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
            let v = match (r.verdict.as_str(), r.oom) {
                ("leak", true) => "LEAK (out of memory)".to_string(),
                ("leak", false) => format!("LEAK ({})", r.leak_kind),
                ("no-leak", _) => "NO LEAK".to_string(),
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
                "  {} requests in {:.1}s ({:.0} req/s), {} HTTP errors, {} transport errors; heap limit {:.0} MB",
                r.requests,
                r.duration_s,
                r.requests_per_second,
                r.http_errors,
                r.transport_errors,
                r.heap_limit_bytes as f64 / 1048576.0
            );
            if r.verdict == "leak" {
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
    if let Some(path) = &cmd.json {
        let text = serde_json::to_string_pretty(r).context("serialising the result")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(outcome.exit_code)
}
