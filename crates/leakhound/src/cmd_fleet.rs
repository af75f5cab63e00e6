//! `leakhound fleet`: judge every Node instance a Prometheus server scrapes.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use leakhound_fleet::{FleetError, Query};
use leakhound_report::render::{Json, Markdown};
use leakhound_report::units;
use leakhound_schema::Verdict;

use crate::exit::{self, Outcome};
use crate::load_args::parse_positive_duration;
use crate::output::Outputs;

const AFTER_HELP: &str = "\
Per instance: the post-GC floor of the heap gauge (a rolling minimum over 5 steps), split at
restarts (process_start_time_seconds changes), then per segment a Theil-Sen slope with its 95%
interval and a Mann-Kendall trend test. Restarting twice or more after reaching a similar peak
is a leak too. At least 20 points per instance are needed.

Exit codes:
  0  no instance leaks
  1  at least one instance leaks
  3  too little data (no matching series, or fewer than 20 points per instance)
  2  usage or input error (a non-loopback URL, Prometheus unreachable or refusing the query)

Examples:
  leakhound fleet --prometheus http://127.0.0.1:9090
  leakhound fleet --prometheus http://127.0.0.1:9090 --selector '{job=\"api\"}' --window 2m --step 2s
  leakhound fleet --prometheus http://localhost:9090 --window 24h --step 5m --json - | jq .instances";

/// Find the leaking instances of a fleet from the heap series Prometheus already holds.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct FleetCmd {
    /// The Prometheus server's base URL; loopback only (127.0.0.0/8, [::1], localhost): reach
    /// a remote one through a port-forward.
    #[arg(long, value_name = "URL")]
    pub prometheus: String,
    /// Label matchers for the series to read, e.g. '{job="api"}' [default: every series]
    #[arg(long, value_name = "{MATCHERS}")]
    pub selector: Option<String>,
    /// How far back to read (e.g. 6h, 2m).
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_positive_duration)]
    pub window: Duration,
    /// The resolution of the query (e.g. 30s, 2s): at least the scrape interval.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration)]
    pub step: Duration,
    /// The heap metric [default: detected: nodejs_heap_size_used_bytes (prom-client), then
    /// v8js_memory_heap_used_bytes (OpenTelemetry)]
    #[arg(long, value_name = "NAME")]
    pub metric: Option<String>,
    /// Every instance's heap limit, for the time to out-of-memory: MB as a bare number, or
    /// 4GB, 512MB. Without it: OpenTelemetry's limit metric, or the peak reached before
    /// earlier restarts.
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size_mb)]
    pub heap_limit: Option<f64>,
    /// Write the leakhound.fleet/v1 JSON to FILE; `-` is stdout, and the table then goes to
    /// stderr.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<PathBuf>,
    /// Write a Markdown summary to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE|-")]
    pub markdown: Option<PathBuf>,
}

pub fn run(cmd: FleetCmd) -> Outcome {
    let mut outs = Outputs::new::<PathBuf>(&[]);
    let mut json = outs.open_opt("--json", cmd.json.as_deref())?;
    let mut markdown = outs.open_opt("--markdown", cmd.markdown.as_deref())?;
    let human = outs.human();
    if let Some(m) = &cmd.metric {
        if m.is_empty()
            || !m
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            anyhow::bail!(
                "--metric {m:?}: expected a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
            );
        }
    }
    let end = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let q = Query {
        prometheus: cmd.prometheus.clone(),
        selector: cmd.selector.clone().unwrap_or_default(),
        window_s: cmd.window.as_secs_f64(),
        step_s: cmd.step.as_secs_f64(),
        metric: cmd.metric.clone(),
        heap_limit_bytes: cmd.heap_limit.map(|mb| mb * 1024.0 * 1024.0),
        end_unix_s: end,
        timeout: Duration::from_secs(30),
    };
    let report = match leakhound_fleet::read_fleet(&q) {
        Ok(r) => r,
        Err(FleetError::TooLittleData(m)) => {
            crate::note!("leakhound: {m}");
            return Ok(exit::INCONCLUSIVE);
        }
        Err(e) => return Err(e.into()),
    };
    let code = if report.verdict == Verdict::Leak {
        exit::LEAK
    } else {
        exit::OK
    };
    exit::reached(code);
    if let Some(j) = &mut json {
        j.render(&Json, &report)?;
    }
    if let Some(m) = &mut markdown {
        m.render(&Markdown, &report)?;
    }
    human.render(&report)?;
    Ok(code)
}
