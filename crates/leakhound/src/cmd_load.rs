//! `leakhound load`: drive HTTP load at a URL or a config's endpoints and print the summary.

use crate::exit::{self, Outcome};
use crate::load_args::{Aim, LoadArgs};
use crate::note;
use crate::output::Outputs;
use anyhow::bail;
use leakhound_load::{Bounds, Engine, StopHandle, Summary};
use leakhound_report::render::Json;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  leakhound load -c 50 -d 10s http://127.0.0.1:3000/health
  leakhound load -n 100 -c 100 -b @body.json -H 'Content-Type: application/json' \\
    http://127.0.0.1:3000/api/data
  leakhound load --json - -d 5s http://127.0.0.1:3000/ | jq .requests_per_sec
  leakhound load --config leakhound.toml 100 data     # 100 concurrent requests to endpoint 'data'

Exit codes:
  0  the run completed (even with some failed requests: see the summary)
  2  usage or input error (bad URL, unknown endpoint, bad config, -c 0, missing body file,
     an output that cannot be written)
  4  not a single request succeeded, or a setup step failed (the target failed, as in `run`)")]
pub struct LoadCmd {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Write the summary as one JSON object (schema leakhound.load/v1) to FILE; `-` is stdout,
    /// and the text summary then goes to stderr
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// No progress bar (there is none anyway when stderr is not a terminal)
    #[arg(long)]
    pub no_progress: bool,
    /// URL (http://HOST[:PORT][/PATH]); with --config: [CONCURRENT] [ENDPOINT] instead, as the
    /// seed's `node load-test.js 100 data` (CONCURRENT requests at once to endpoint ENDPOINT)
    #[arg(value_name = "URL | CONCURRENT ENDPOINT", num_args = 0..=2)]
    pub args: Vec<String>,
}

pub fn run(cmd: LoadCmd) -> Outcome {
    let mut load = cmd.load;
    // A URL beside --config aims a config of only [[setup]] steps (or --openapi/--har) at it.
    let url_first = cmd.args.first().is_some_and(|a| a.contains("://"));
    let plan = if load.config.is_some() && !url_first {
        let mut args = cmd.args.iter();
        let mut endpoint = None;
        if let Some(first) = args.next() {
            match first.parse::<usize>() {
                Ok(n) => {
                    if load.connections.is_some() {
                        bail!("give the concurrency once: CONCURRENT or -c, not both");
                    }
                    load.connections = Some(n);
                    if load.requests.is_none() && load.duration.is_none() {
                        load.requests = Some(n as u64);
                    }
                    endpoint = args.next().map(String::as_str);
                }
                Err(_) if first.contains("://") => {
                    bail!("give either a URL ({first}) or --config, not both")
                }
                Err(_) => endpoint = Some(first.as_str()),
            }
        }
        if let Some(extra) = args.next() {
            bail!("unexpected argument {extra:?}");
        }
        load.plan(Aim::ConfigTarget { endpoint })?
    } else {
        match cmd.args.as_slice() {
            [url] => load.plan(Aim::Url(url))?,
            [] => bail!("no URL given (or use --config FILE)"),
            [_, extra, ..] => bail!("unexpected argument {extra:?} (one URL only)"),
        }
    };
    let mut outs = Outputs::new(&load.inputs());
    let mut json = outs.open_opt("--json", cmd.json.as_deref())?;
    let human = outs.human();
    let bounds = load.bounds();
    let mut engine = Engine::new(plan)?;
    stop_on_ctrl_c(engine.stop_handle());
    let progress = !cmd.no_progress && std::io::stderr().is_terminal();
    let summary = run_with_progress(&mut engine, bounds, progress);
    if let Some(f) = engine.setup_failure() {
        exit::reached(exit::TARGET_FAILED);
        note!("leakhound: {f}");
        return Ok(exit::TARGET_FAILED);
    }
    let code = if summary.nothing_succeeded() {
        exit::NOTHING_SUCCEEDED
    } else {
        exit::OK
    };
    exit::reached(code);
    if let Some(j) = &mut json {
        j.render(&Json, &summary)?;
    }
    human.render(&summary)?;
    if summary.nothing_succeeded() {
        note!("{}", nothing_succeeded(&summary));
    }
    Ok(code)
}

/// Ctrl-C ends the run early and still prints the summary of what was done.
fn stop_on_ctrl_c(stop: StopHandle) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(tokio::signal::ctrl_c()).ok()?;
        stop.stop();
        Some(())
    });
}

fn nothing_succeeded(s: &Summary) -> String {
    let mut why: Vec<String> = s
        .errors
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    why.extend(s.status_classes.iter().map(|(k, n)| format!("{k} {n}")));
    format!(
        "leakhound: not a single request succeeded ({} failed{}{})",
        s.failed,
        if why.is_empty() { "" } else { ": " },
        why.join(", ")
    )
}

/// Run one round; a bar on stderr follows the live counters when asked for.
fn run_with_progress(engine: &mut Engine, bounds: Bounds, progress: bool) -> Summary {
    if !progress {
        engine.run_round(bounds);
        return engine.summary();
    }
    let counters = engine.counters();
    let bar = match bounds.requests {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new(bounds.duration.map_or(0, |d| d.as_millis() as u64)),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {elapsed:>4} {msg}")
            .expect("valid progress template"),
    );
    let by_requests = bounds.requests.is_some();
    let start = Instant::now();
    std::thread::scope(|s| {
        let t = s.spawn(|| engine.run_round(bounds));
        while !t.is_finished() {
            let n = counters.completed.load(Relaxed);
            let failed = counters.failed.load(Relaxed);
            let el = start.elapsed();
            bar.set_position(if by_requests {
                n
            } else {
                el.as_millis() as u64
            });
            bar.set_message(format!(
                "{n} requests, {:.0} req/s, {failed} errors",
                n as f64 / el.as_secs_f64().max(1e-3)
            ));
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = t.join();
    });
    bar.finish_and_clear();
    engine.summary()
}
