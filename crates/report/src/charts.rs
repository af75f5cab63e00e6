//! The HTML report's charts: retained memory against requests (with the run's fitted line
//! over the series it was fitted on), garbage collection over time, throughput and latency.
//! Each section appends its `<h2>` and figures to the page.

use std::fmt::Write;

use crate::escape::html as esc;
use crate::fit;
use crate::format;
use crate::run_schema::{FitAxis, RunReport, SeriesName};
use crate::svg::{downsample, Chart, Series, Style};

const MIB: f64 = 1024.0 * 1024.0;
/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
pub const BLUE: &str = "#0072B2";
const ORANGE: &str = "#E69F00";
const GREEN: &str = "#009E73";
pub const VERMILLION: &str = "#D55E00";
const PURPLE: &str = "#CC79A7";
const SKY: &str = "#56B4E9";
/// GC events drawn per chart; the JSON may hold more.
const MAX_GC_DOTS: usize = 300;

fn figure(o: &mut String, caption: &str, chart: &Chart, note: &str) {
    let _ = write!(
        o,
        "<figure><figcaption>{}</figcaption>{}",
        esc(caption),
        chart.render()
    );
    if !note.is_empty() {
        let _ = write!(o, "<p class=\"note\">{}</p>", esc(note));
    }
    o.push_str("</figure>");
}

/// The decided fit's line as chart points (requests, MiB): the fitted value at each sample the
/// fit used, so a line fitted against seconds still sits on a requests axis.
fn fit_series(line: &fit::Line) -> Series {
    let mut points: Vec<(f64, f64)> = line
        .samples
        .iter()
        .map(|s| (s.requests as f64, line.at(s) / MIB))
        .collect();
    if line.x == FitAxis::Requests && points.len() > 2 {
        // A straight line: its two ends are enough.
        points = vec![points[0], points[points.len() - 1]];
    }
    Series {
        name: format!(
            "fit: {} per {}",
            format::bytes(line.slope),
            fit::axis_unit(line.x)
        ),
        color: VERMILLION,
        style: Style::Dashed,
        points,
    }
}

/// What the dashed line is, in one sentence under the chart.
fn fit_note(line: &fit::Line) -> String {
    if !line.decided {
        return "Fitted over the load rounds: slope = retained bytes per request, intercept = \
                median of (heap − slope × requests)."
            .into();
    }
    let unit = fit::axis_unit(line.x);
    let ci = line
        .ci
        .map(|[lo, hi]| {
            format!(
                ", 95% interval {} to {} per {unit}",
                format::bytes(lo),
                format::bytes(hi)
            )
        })
        .unwrap_or_default();
    let r2 = line
        .r_squared
        .map(|r2| format!(", R² {r2:.3}"))
        .unwrap_or_default();
    format!(
        "The fit the verdict was decided on: {} against {unit}s over {} samples (Theil–Sen{ci}{r2}).",
        fit::series_label(line.series),
        line.samples.len()
    )
}

pub fn memory(o: &mut String, r: &RunReport) {
    // The points sit where the fitted line does: on the run's own axis (time, work ...).
    let axis = fit::run_axis(r);
    let (x_label, against) = fit::axis_label(axis);
    let _ = write!(
        o,
        "<h2>Retained memory against {against}</h2><div class=\"charts\">"
    );
    let pts = |f: fn(&crate::run_schema::RunSample) -> u64| -> Vec<(f64, f64)> {
        r.samples
            .iter()
            .map(|s| (fit::position(s, axis), f(s) as f64 / MIB))
            .collect()
    };
    let mut series = vec![Series {
        name: "JS heap used after full GC".into(),
        color: BLUE,
        style: Style::Line,
        points: pts(|s| s.heap_used),
    }];
    let idle: Vec<(f64, f64)> = r
        .samples
        .iter()
        .filter(|s| s.phase == leakhound_schema::Phase::Idle)
        .map(|s| (fit::position(s, axis), s.heap_used as f64 / MIB))
        .collect();
    if !idle.is_empty() {
        series.push(Series {
            name: "after the idle phase (no load)".into(),
            color: GREEN,
            style: Style::Dots,
            points: idle,
        });
    }
    let mut other = vec![
        Series {
            name: "RSS".into(),
            color: PURPLE,
            style: Style::Line,
            points: pts(|s| s.rss),
        },
        Series {
            name: "external".into(),
            color: ORANGE,
            style: Style::Line,
            points: pts(|s| s.external),
        },
        Series {
            name: "ArrayBuffers".into(),
            color: GREEN,
            style: Style::Line,
            points: pts(|s| s.array_buffers),
        },
    ];
    // The line goes over the series it was fitted on: the JS heap chart, or the external and
    // RSS chart for an external or RSS fit.
    let (mut heap_note, mut other_note) = (String::new(), String::new());
    if let Some(line) = fit::line(r).filter(|l| !l.samples.is_empty()) {
        if line.series == SeriesName::HeapUsed {
            series.push(fit_series(&line));
            heap_note = fit_note(&line);
        } else {
            other.push(fit_series(&line));
            other_note = fit_note(&line);
        }
    }
    let c = Chart {
        title: format!("JS heap after full GC against {against}"),
        x_label: x_label.into(),
        y_label: "MiB".into(),
        series,
        y_from_zero: true,
    };
    figure(o, "JS heap (after forced full GC)", &c, &heap_note);
    let c = Chart {
        title: format!("External memory, ArrayBuffers and RSS against {against}"),
        x_label: x_label.into(),
        y_label: "MiB".into(),
        series: other,
        y_from_zero: true,
    };
    figure(o, "External memory and RSS", &c, &other_note);
    o.push_str("</div>");
}

pub fn gc(o: &mut String, r: &RunReport) {
    if r.gc_events.is_empty() {
        return;
    }
    let events = downsample(&r.gc_events, MAX_GC_DOTS);
    let split = |major: bool, f: fn(&crate::run_schema::GcEventOut) -> f64| -> Vec<(f64, f64)> {
        events
            .iter()
            .filter(|e| e.collector.is_major() == major)
            .map(|e| (e.t_s, f(e)))
            .collect()
    };
    o.push_str("<h2>Garbage collection over time</h2><div class=\"charts\">");
    let c = Chart {
        title: "Heap after each GC over time".into(),
        x_label: "time (s)".into(),
        y_label: "MiB".into(),
        series: vec![
            Series {
                name: "after minor GC (scavenge)".into(),
                color: SKY,
                style: Style::Dots,
                points: split(false, |e| e.after_mb),
            },
            Series {
                name: "after major GC (mark-compact)".into(),
                color: VERMILLION,
                style: Style::Dots,
                points: split(true, |e| e.after_mb),
            },
        ],
        y_from_zero: true,
    };
    let note = format!(
        "{} GC events in the trace{}.",
        r.gc_events.len(),
        if events.len() < r.gc_events.len() {
            format!(", {} drawn", events.len())
        } else {
            String::new()
        }
    );
    figure(o, "Heap after each GC", &c, &note);
    let c = Chart {
        title: "Share of the heap freed by each GC".into(),
        x_label: "time (s)".into(),
        y_label: "% freed".into(),
        series: vec![
            Series {
                name: "minor GC".into(),
                color: SKY,
                style: Style::Dots,
                points: split(false, |e| e.freed_share * 100.0),
            },
            Series {
                name: "major GC".into(),
                color: VERMILLION,
                style: Style::Dots,
                points: split(true, |e| e.freed_share * 100.0),
            },
        ],
        y_from_zero: true,
    };
    figure(
        o,
        "Share freed by each GC",
        &c,
        "Major GCs that free little while the heap grows mean live objects are piling up.",
    );
    o.push_str("</div>");
}

pub fn throughput(o: &mut String, r: &RunReport) {
    if r.rounds.is_empty() {
        return;
    }
    o.push_str("<h2>Throughput and latency</h2><div class=\"charts\">");
    let c = Chart {
        title: "Throughput per load round".into(),
        x_label: "time (s)".into(),
        y_label: "requests / s".into(),
        series: vec![Series {
            name: "throughput".into(),
            color: GREEN,
            style: Style::Line,
            points: r
                .rounds
                .iter()
                .map(|x| (x.t_s, x.requests_per_second))
                .collect(),
        }],
        y_from_zero: true,
    };
    figure(o, "Throughput", &c, "");
    let c = Chart {
        title: "Latency per load round".into(),
        x_label: "time (s)".into(),
        y_label: "ms".into(),
        series: vec![
            Series {
                name: "p50".into(),
                color: BLUE,
                style: Style::Line,
                points: r.rounds.iter().map(|x| (x.t_s, x.p50_ms)).collect(),
            },
            Series {
                name: "p99".into(),
                color: VERMILLION,
                style: Style::Line,
                points: r.rounds.iter().map(|x| (x.t_s, x.p99_ms)).collect(),
            },
        ],
        y_from_zero: true,
    };
    figure(o, "Latency", &c, "");
    o.push_str("</div>");
}
