//! The worker threads of a run (`processes[].threads[]`) in the terminal text and the HTML
//! page (the Markdown table is `crate::markdown`'s, from the same words): each isolate with its own verdict and slope, and one chart of every
//! isolate's heap against requests. Nothing is printed for a run without worker threads.

use std::fmt::Write as _;
use std::io;

use leakhound_schema::process::{ProcessOut, ThreadOut};
use leakhound_schema::{LeakKind, Verdict};

use crate::escape::html as esc;
use crate::format;
use crate::run_schema::{RunReport, RunSample};
use crate::svg::{Chart, Series, Style};

const MIB: f64 = 1024.0 * 1024.0;
/// Okabe–Ito colours, one per isolate in turn.
const COLORS: [&str; 6] = [
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9",
];

/// One isolate's line: `LEAK (js-heap), 600 B/request` (or `1.2 MiB/second` on a run driven
/// by time: `slope` is the slope with the unit it is per, see [`of_process`]).
pub(crate) fn verdict(v: Verdict, kind: LeakKind, slope: Option<(f64, &str)>) -> String {
    let word = match v {
        Verdict::Leak => format!("LEAK ({kind})"),
        Verdict::NoLeak => "NO LEAK".into(),
        Verdict::Inconclusive => "INCONCLUSIVE".into(),
        Verdict::TargetFailed => "TARGET FAILED".into(),
        Verdict::Interrupted => "INTERRUPTED".into(),
    };
    match slope {
        Some((b, unit)) if v == Verdict::Leak || v == Verdict::NoLeak => {
            format!("{word}, {}", format::bytes_per(b, unit))
        }
        _ => word,
    }
}

/// A slope and its unit: per unit of the run's driver when the report gives one, else per
/// request (reports written before `unit` existed).
pub(crate) fn in_unit(
    per_request: Option<f64>,
    per_unit: Option<f64>,
    unit: Option<&str>,
) -> Option<(f64, &str)> {
    match (per_unit, unit) {
        (Some(b), Some(u)) => Some((b, u)),
        _ => per_request.map(|b| (b, "request")),
    }
}

/// A process's slope in its unit.
pub(crate) fn of_process(p: &ProcessOut) -> Option<(f64, &str)> {
    in_unit(
        p.retained_bytes_per_request,
        p.retained_bytes_per_unit,
        p.unit.as_deref(),
    )
}

/// A worker thread's slope in its unit.
pub(crate) fn of_thread(t: &ThreadOut) -> Option<(f64, &str)> {
    in_unit(
        t.retained_bytes_per_request,
        t.retained_bytes_per_unit,
        t.unit.as_deref(),
    )
}

pub(crate) fn name(t: &ThreadOut) -> String {
    if t.url.is_empty() || t.title.contains(&t.url) {
        format!("worker thread {}", t.title)
    } else {
        format!("worker thread {} ({})", t.title, t.url)
    }
}

pub(crate) fn with_threads(r: &RunReport) -> impl Iterator<Item = &ProcessOut> {
    r.processes.iter().filter(|p| !p.threads.is_empty())
}

/// The terminal's section: each process's main thread and worker threads, decided apart.
pub fn text(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    for p in with_threads(r) {
        writeln!(
            out,
            "  isolates of {} (each decided on its own heap):",
            p.label
        )?;
        writeln!(
            out,
            "    main thread: {}",
            verdict(p.verdict, p.leak_kind, of_process(p))
        )?;
        for t in &p.threads {
            let ended = if t.ended {
                " (ended during the run)"
            } else {
                ""
            };
            writeln!(
                out,
                "    {}: {}{ended}",
                name(t),
                verdict(t.verdict, t.leak_kind, of_thread(t))
            )?;
            if let Some(n) = &t.note {
                writeln!(out, "      {n}")?;
            }
        }
    }
    Ok(())
}

/// The HTML charts: each isolate's JS heap, and its external memory, after its own forced full
/// GC against requests.
pub fn html(o: &mut String, r: &RunReport) {
    for p in with_threads(r) {
        let _ = write!(
            o,
            "<h2>Worker threads of {}</h2><div class=\"charts\">",
            esc(&p.label)
        );
        let heap: fn(&RunSample) -> u64 = |s| s.heap_used;
        let external: fn(&RunSample) -> u64 = |s| s.external;
        for (what, f) in [("JS heap", heap), ("External memory", external)] {
            let axis = crate::fit::run_axis(r);
            let pts = |s: &[RunSample]| -> Vec<(f64, f64)> {
                s.iter()
                    .map(|s| (crate::fit::position(s, axis), f(s) as f64 / MIB))
                    .collect()
            };
            let mut series = vec![Series {
                name: format!(
                    "main thread: {}",
                    verdict(p.verdict, p.leak_kind, of_process(p))
                ),
                color: COLORS[0],
                style: Style::Line,
                points: pts(&p.samples),
            }];
            for (i, t) in p.threads.iter().enumerate() {
                series.push(Series {
                    name: format!(
                        "{}: {}",
                        name(t),
                        verdict(t.verdict, t.leak_kind, of_thread(t))
                    ),
                    color: COLORS[(i + 1) % COLORS.len()],
                    style: Style::Line,
                    points: pts(&t.samples),
                });
            }
            let c = Chart {
                title: format!("{what} of each isolate of {}", p.label),
                x_label: crate::fit::axis_label(axis).0.into(),
                y_label: "MiB".into(),
                series,
                y_from_zero: true,
            };
            let _ = write!(
                o,
                "<figure><figcaption>{what} of each isolate (after its own forced full GC)\
                 </figcaption>{}</figure>",
                c.render()
            );
        }
        o.push_str("</div>");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn report() -> RunReport {
        let sample = |requests, mib: u64| RunSample {
            requests,
            heap_used: mib << 20,
            ..Default::default()
        };
        RunReport {
            processes: vec![ProcessOut {
                pid: 7,
                label: "pid 7".into(),
                verdict: Verdict::NoLeak,
                retained_bytes_per_request: Some(1.0),
                samples: vec![sample(0, 4), sample(1000, 4)],
                threads: vec![ThreadOut {
                    worker_id: "1".into(),
                    title: "[worker 1]".into(),
                    url: "lib/<w>.js".into(),
                    verdict: Verdict::Leak,
                    leak_kind: LeakKind::JsHeap,
                    retained_bytes_per_request: Some(600.0),
                    samples: vec![sample(0, 4), sample(1000, 9)],
                    alloc_survivors: vec![leakhound_schema::run::AllocSiteOut {
                        function: "(anonymous)".into(),
                        location: "lib/<w>.js:6".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn each_isolate_is_listed_with_its_verdict() {
        let mut out = Vec::new();
        text(&report(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  isolates of pid 7 (each decided on its own heap):\n    \
             main thread: NO LEAK, 1 B/request\n    \
             worker thread [worker 1] (lib/<w>.js): LEAK (js-heap), 600 B/request\n"
        );
        let mut r = report();
        r.processes[0].threads[0].ended = true;
        r.processes[0].threads[0].note = Some("no longer followed: it stopped answering".into());
        let mut out = Vec::new();
        text(&r, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.ends_with(
                "600 B/request (ended during the run)\n      no longer followed: it stopped answering\n"
            ),
            "{out}"
        );
        let mut h = String::new();
        html(&mut h, &report());
        assert!(h.contains("<h2>Worker threads of pid 7</h2>"), "{h}");
        assert!(!h.contains("<w>"), "escaped: {h}");
        assert!(
            h.contains("worker thread [worker 1] (lib/&lt;w&gt;.js): LEAK (js-heap)"),
            "{h}"
        );
    }

    #[test]
    fn each_isolate_speaks_the_runs_unit() {
        let mut r = report();
        r.processes[0].retained_bytes_per_unit = Some(2.0);
        r.processes[0].unit = Some("iteration".into());
        let t = &mut r.processes[0].threads[0];
        t.retained_bytes_per_unit = Some(45.0 * 1024.0);
        t.unit = Some("second".into());
        let mut out = Vec::new();
        text(&r, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("main thread: NO LEAK, 2 B/iteration"), "{out}");
        assert!(out.contains("LEAK (js-heap), 45.0 KiB/second"), "{out}");
        assert!(!out.contains("request"), "{out}");
        let mut h = String::new();
        html(&mut h, &r);
        assert!(
            h.contains("45.0 KiB/second") && !h.contains("B/request"),
            "{h}"
        );
    }

    #[test]
    fn a_run_without_threads_prints_nothing() {
        let mut out = Vec::new();
        text(&RunReport::default(), &mut out).unwrap();
        assert!(out.is_empty());
        let mut h = String::new();
        html(&mut h, &RunReport::default());
        assert!(h.is_empty());
    }
}
