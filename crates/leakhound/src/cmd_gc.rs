//! `leakhound gc`: read a V8 `--trace-gc` log, saved or live, and judge the live set.

use crate::exit::{self, Outcome};
use crate::load_args::parse_positive_duration;
use crate::metrics_server;
use crate::output::Outputs;
use anyhow::{bail, Context};
use leakhound_gctrace::{Analyzer, AnalyzerConfig, GcAnalysis, GcAnalysisText, Verdict};
use leakhound_report::openmetrics;
use leakhound_report::render::Json;
use leakhound_report::units;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

const EXIT_HELP: &str = "\
Exit codes:
  0  healthy or allocation-pressure (no leak)
  1  leak (the live set grows steadily, or the process died out of memory)
  3  inconclusive (too few major GCs to judge)
  2  usage or input error (unreadable file, no GC lines in the input)

Examples:
  node --trace-gc app.js > gc.log 2>&1; leakhound gc gc.log
  leakhound gc --json gc.json gc.log
  node --trace-gc app.js 2>&1 | leakhound gc --follow --heap-limit 4GB -
  node --trace-gc app.js 2>&1 | leakhound gc --follow --metrics 127.0.0.1:9464 -

--metrics serves OpenMetrics at http://ADDR/metrics for Prometheus: leakhound_live_set_floor_bytes,
leakhound_live_set_slope_bytes_per_second (and _low_/_high_ for its 95% interval),
leakhound_time_to_oom_seconds, leakhound_heap_limit_bytes, leakhound_gc_time_ratio, leakhound_oom,
leakhound_gc_events_total and leakhound_verdict (0 healthy, 1 leak, 2 allocation pressure,
3 inconclusive), labelled with source and pid.";

/// Read a V8 --trace-gc log (a file, or - for stdin) and judge the live set.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_HELP)]
pub struct GcCmd {
    /// The trace: a file, or `-` for stdin. Feed stdout and stderr together (`2>&1`): the
    /// out-of-memory banner goes to stderr. Plain, --trace-gc-nvp and application output
    /// mixed in are all fine.
    #[arg(value_name = "FILE|-")]
    pub file: String,
    /// Keep reading a live stream (a pipe, or a file that grows) and show a status line that
    /// updates as GCs arrive; print the summary at end of input or on Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Write one `leakhound.gc/v1` JSON object to FILE; `-` is stdout, and the summary then
    /// goes to stderr.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The heap limit (v8.getHeapStatistics().heap_size_limit): MB as a bare number, or 4GB,
    /// 512MB; for "near the limit" and the time-to-OOM projection. Without it the limit is only
    /// known after an OOM.
    #[arg(long, value_name = "MB", value_parser = units::parse_size_mb)]
    pub heap_limit: Option<f64>,
    /// With --follow, warn when the projected time to out-of-memory falls under this (e.g. 10m).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_positive_duration)]
    pub warn_within: Duration,
    /// With --follow and stderr not a terminal, print a status line at most this often (e.g. 1s).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_positive_duration)]
    pub status_interval: Duration,
    /// With --follow, serve the live figures as OpenMetrics at http://ADDR/metrics for
    /// Prometheus to scrape; loopback addresses only (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR", requires = "follow")]
    pub metrics: Option<String>,
}

pub fn run(cmd: GcCmd) -> Outcome {
    if let Some(l) = cmd.heap_limit {
        if !(l.is_finite() && l > 0.0) {
            bail!("--heap-limit must be a positive number of MB, got {l}");
        }
    }
    let mut outs = Outputs::new(&[&cmd.file]);
    let mut json = outs.open_opt("--json", cmd.json.as_deref())?;
    let human = outs.human();
    let metrics = match &cmd.metrics {
        Some(addr) => {
            let addr = metrics_server::loopback_addr(addr)?;
            let e = metrics_server::Exposition::default();
            metrics_server::serve(addr, e.clone())?;
            Some(e)
        }
        None => None,
    };
    if cmd.file == "-" && io::stdin().is_terminal() {
        bail!("no input: give a trace FILE, or pipe `node --trace-gc app.js 2>&1` into `leakhound gc -`");
    }
    let mut analyzer = Analyzer::with_config(AnalyzerConfig {
        heap_limit_mb: cmd.heap_limit,
        ..Default::default()
    });
    let source = if cmd.file == "-" {
        "stdin".to_string()
    } else {
        cmd.file.clone()
    };
    if cmd.follow {
        follow(&cmd, &mut analyzer, metrics.as_ref(), &source)?;
    } else {
        read_all(&cmd.file, &mut analyzer)?;
    }
    analyzer.finish();
    let an = analyzer.analysis();
    if an.gc_events == 0 && !an.oom {
        bail!(
            "{source} has no GC lines ({} lines read): run node with --trace-gc and pass its output",
            an.lines.total
        );
    }
    let code = exit_code(an.verdict);
    exit::reached(code);
    let doc = leakhound_report::render::gc::Trace {
        analysis: &an,
        source: &source,
    };
    if let Some(j) = &mut json {
        j.render(&Json, &doc)?;
    }
    human.render(&doc)?;
    Ok(code)
}

fn exit_code(v: Verdict) -> i32 {
    match v {
        Verdict::Healthy | Verdict::AllocationPressure => exit::OK,
        Verdict::Leak => exit::LEAK,
        Verdict::Inconclusive => exit::INCONCLUSIVE,
    }
}

fn read_all(file: &str, a: &mut Analyzer) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut reader: Box<dyn Read> = if file == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(file).with_context(|| format!("opening {file}"))?)
    };
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => a.push_bytes(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).with_context(|| format!("reading {file}")),
        }
    }
}

enum Msg {
    Data(Vec<u8>),
    Eof,
    Failed(io::Error),
    Interrupted,
}

/// Read until end of input (stdin) or Ctrl-C (a growing file), updating the status line.
fn follow(
    cmd: &GcCmd,
    a: &mut Analyzer,
    metrics: Option<&metrics_server::Exposition>,
    source: &str,
) -> anyhow::Result<()> {
    if let Some(m) = metrics {
        m.set(openmetrics::gc_exposition(&a.analysis(), source));
    }
    let (tx, rx) = mpsc::sync_channel::<Msg>(64);
    let is_file = cmd.file != "-";
    if is_file {
        let f = File::open(&cmd.file).with_context(|| format!("opening {}", cmd.file))?;
        let tx = tx.clone();
        std::thread::spawn(move || tail_file(f, tx));
    } else {
        let tx = tx.clone();
        std::thread::spawn(move || read_stream(io::stdin(), tx));
    }
    watch_interrupt(tx);

    let tty = io::stderr().is_terminal();
    let min_gap = if tty {
        Duration::from_millis(100)
    } else {
        cmd.status_interval
    };
    let mut last_status: Option<Instant> = None;
    let mut shown_events = u64::MAX;
    let mut warned_at: Option<f64> = None;
    let mut oom_warned = false;
    let mut last_data = Instant::now();
    let mut err = io::stderr();
    let mut show = |a: &Analyzer, err: &mut io::Stderr| {
        let an = a.analysis();
        if let Some(m) = metrics {
            m.set(openmetrics::gc_exposition(&an, source));
        }
        show_status(err, tty, &an);
        warn_oom(
            err,
            tty,
            &an,
            cmd.warn_within,
            &mut warned_at,
            &mut oom_warned,
        );
    };
    let result = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Msg::Data(d)) => {
                a.push_bytes(&d);
                last_data = Instant::now();
            }
            Ok(Msg::Eof) | Ok(Msg::Interrupted) => break Ok(()),
            Ok(Msg::Failed(e)) => break Err(e).context(format!("reading {}", cmd.file)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
        }
        let due = last_status.is_none_or(|t| t.elapsed() >= min_gap);
        if a.gc_events() != shown_events && (a.gc_events() > 0 || a.oom()) && due {
            shown_events = a.gc_events();
            last_status = Some(Instant::now());
            show(a, &mut err);
        }
        // A followed file whose process died out of memory will not grow again.
        if is_file && a.oom() && last_data.elapsed() > Duration::from_secs(2) {
            break Ok(());
        }
    };
    if shown_events != a.gc_events() && a.gc_events() > 0 {
        show(a, &mut err);
    }
    if tty && last_status.is_some() {
        let _ = writeln!(err);
    }
    result
}

fn show_status(err: &mut io::Stderr, tty: bool, an: &GcAnalysis) {
    let line = an.status_line();
    let _ = if tty {
        write!(err, "\r\x1b[2K{line}")
    } else {
        writeln!(err, "{line}")
    };
    let _ = err.flush();
}

fn warn_oom(
    err: &mut io::Stderr,
    tty: bool,
    an: &GcAnalysis,
    within: Duration,
    warned_at: &mut Option<f64>,
    oom_warned: &mut bool,
) {
    let prefix = if tty { "\r\x1b[2K" } else { "" };
    if an.oom {
        if !*oom_warned {
            *oom_warned = true;
            let _ = writeln!(
                err,
                "{prefix}leakhound: warning: the process ran out of memory{}",
                an.oom_report
                    .as_ref()
                    .and_then(|r| r.fatal_line.as_deref())
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default()
            );
        }
        return;
    }
    let Some(t) = an.time_to_oom_s else { return };
    // Warn on crossing the threshold, and again each time the projection halves.
    if t < within.as_secs_f64() && warned_at.is_none_or(|w| t < w / 2.0) {
        *warned_at = Some(t);
        let slope = an
            .live_set
            .trend
            .as_ref()
            .map_or(0.0, |t| t.slope_mb_per_min);
        let _ = writeln!(
            err,
            "{prefix}leakhound: warning: projected out of memory in about {} (live set {:.1} MiB of a {:.0} MiB limit, growing {:.1} MiB/min)",
            humantime::format_duration(Duration::from_secs(t.round() as u64)),
            an.live_set.last_mb.unwrap_or(0.0),
            an.heap_limit_mb.unwrap_or(0.0),
            slope
        );
    }
}

fn read_stream(mut r: impl Read, tx: SyncSender<Msg>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Msg::Eof);
                return;
            }
            Ok(n) => {
                if tx.send(Msg::Data(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Msg::Failed(e));
                return;
            }
        }
    }
}

/// Like `tail -f`: read to the end, then poll for growth; start over if the file shrinks
/// (log rotation by truncation).
fn tail_file(mut f: File, tx: SyncSender<Msg>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos: u64 = 0;
    loop {
        match f.read(&mut buf) {
            Ok(0) => {
                std::thread::sleep(Duration::from_millis(200));
                if let Ok(meta) = f.metadata() {
                    if meta.len() < pos && f.seek(SeekFrom::Start(0)).is_ok() {
                        pos = 0;
                    }
                }
            }
            Ok(n) => {
                pos += n as u64;
                if tx.send(Msg::Data(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Msg::Failed(e));
                return;
            }
        }
    }
}

/// Ctrl-C / SIGTERM end a follow with the summary instead of killing it mid-line.
fn watch_interrupt(tx: SyncSender<Msg>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        let _ = tx.send(Msg::Interrupted);
    });
}
