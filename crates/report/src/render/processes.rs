//! The processes of a run (`processes[]`), as the terminal table, the Markdown table and the
//! HTML chart of each process's heap. Shown only when the run followed more than one process
//! (a cluster, `npm start`): a lone process is the run itself.

use std::fmt::Write as _;
use std::io;

use leakhound_schema::process::ProcessOut;
use leakhound_schema::{Phase, Verdict};

use crate::escape::html as esc;
use crate::escape::markdown as md_escape;
use crate::format;
use crate::run_schema::RunReport;
use crate::svg::{Chart, Series, Style};

const MIB: f64 = 1024.0 * 1024.0;
/// Okabe–Ito colours, one per process (cycled).
const COLORS: [&str; 6] = [
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9",
];

fn shown(r: &RunReport) -> bool {
    r.processes.len() > 1
}

/// Heap after the first and the last load sample: "3.3 → 18.3 MiB".
fn heap_span(p: &ProcessOut) -> String {
    let load: Vec<_> = p
        .samples
        .iter()
        .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
        .collect();
    match (load.first(), load.last()) {
        (Some(a), Some(b)) => format!(
            "{:.1} → {:.1} MiB",
            a.heap_used as f64 / MIB,
            b.heap_used as f64 / MIB
        ),
        _ => "—".into(),
    }
}

/// The process's slope in the run's unit (`B/request`, `MiB/second`, `B/iteration` ...).
fn slope(p: &ProcessOut) -> String {
    match crate::threads::of_process(p) {
        Some((b, unit)) if p.verdict == Verdict::Leak => format::bytes_per(b, unit),
        Some((b, unit)) => format!("{b:.0} B/{unit}"),
        None => "—".into(),
    }
}

fn verdict(p: &ProcessOut) -> String {
    let v = match p.verdict {
        Verdict::Leak => format!("LEAK ({})", p.leak_kind),
        v => v.as_str().to_string(),
    };
    match &p.exit {
        Some(e) => format!("{v}; {e}"),
        None => v,
    }
}

/// The compact table under the verdict.
pub fn text(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    if !shown(r) {
        return Ok(());
    }
    writeln!(out, "  processes:")?;
    let rows: Vec<[String; 5]> = r
        .processes
        .iter()
        .map(|p| {
            [
                p.label.clone(),
                if p.serving { "serving" } else { "not serving" }.to_string(),
                heap_span(p),
                slope(p),
                verdict(p),
            ]
        })
        .collect();
    let w = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2, w3) = (w(0), w(1), w(2), w(3));
    for row in &rows {
        writeln!(
            out,
            "    {:<w0$}  {:<w1$}  heap {:<w2$}  {:>w3$}  {}",
            row[0], row[1], row[2], row[3], row[4]
        )?;
    }
    Ok(())
}

/// The Markdown table.
pub fn markdown(r: &RunReport, o: &mut String) {
    if !shown(r) {
        return;
    }
    let _ = writeln!(o, "**Processes**\n");
    let _ = writeln!(
        o,
        "| Process | Role | Serving | Heap after GC (load) | Retained | Verdict |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for p in &r.processes {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            md_escape(&p.label),
            p.role.as_str(),
            if p.serving { "yes" } else { "no" },
            heap_span(p),
            slope(p),
            md_escape(&verdict(p))
        );
    }
    let _ = writeln!(o);
}

/// Each process's heap after forced GCs against the run's time, one line per process.
pub fn html(r: &RunReport, o: &mut String) {
    if !shown(r) {
        return;
    }
    let series = r
        .processes
        .iter()
        .enumerate()
        .map(|(i, p)| Series {
            name: format!("{} ({})", p.label, p.verdict.as_str()),
            color: COLORS[i % COLORS.len()],
            style: if p.serving {
                Style::Line
            } else {
                Style::Dashed
            },
            points: p
                .samples
                .iter()
                .map(|s| (s.t_s, s.heap_used as f64 / MIB))
                .collect(),
        })
        .collect();
    let c = Chart {
        title: "JS heap of each process after full GC against time".into(),
        x_label: "seconds since start".into(),
        y_label: "MiB".into(),
        series,
        y_from_zero: true,
    };
    let _ = write!(
        o,
        "<h2>Processes</h2><div class=\"charts\"><figure><figcaption>JS heap of each process \
         (after forced full GC)</figcaption>{}<p class=\"note\">",
        c.render()
    );
    for p in &r.processes {
        let _ = write!(
            o,
            "{}: {}, {}, {}. ",
            esc(&p.label),
            if p.serving { "serving" } else { "not serving" },
            esc(&slope(p)),
            esc(&verdict(p))
        );
    }
    o.push_str("</p></figure></div>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_schema::process::ProcessRole;
    use leakhound_schema::LeakKind;

    fn cluster() -> RunReport {
        let s = |t: f64, mb: u64, phase| crate::run_schema::RunSample {
            t_s: t,
            requests: (t * 1000.0) as u64,
            heap_used: mb * 1024 * 1024,
            phase,
            ..Default::default()
        };
        let p = |pid, role, label: &str, mbs: [u64; 2], verdict, exit: Option<&str>| ProcessOut {
            pid,
            role,
            label: label.into(),
            serving: role != ProcessRole::Wrapper,
            samples: vec![s(1.0, mbs[0], Phase::Warmup), s(2.0, mbs[1], Phase::Load)],
            verdict,
            leak_kind: if verdict == Verdict::Leak {
                LeakKind::JsHeap
            } else {
                LeakKind::None
            },
            retained_bytes_per_request: Some(640.0),
            exit: exit.map(str::to_string),
            ..Default::default()
        };
        RunReport {
            processes: vec![
                p(
                    10,
                    ProcessRole::Primary,
                    "primary, pid 10",
                    [3, 3],
                    Verdict::NoLeak,
                    None,
                ),
                p(
                    11,
                    ProcessRole::Worker,
                    "worker 1 of 2, pid 11",
                    [5, 40],
                    Verdict::Leak,
                    Some("ran out of memory; restarted as pid 13"),
                ),
                p(
                    12,
                    ProcessRole::Worker,
                    "worker 2 of 2, pid 12",
                    [5, 30],
                    Verdict::Leak,
                    None,
                ),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn the_table_has_a_row_per_process_with_its_verdict() {
        let r = cluster();
        let mut out = Vec::new();
        text(&r, &mut out).unwrap();
        let t = String::from_utf8(out).unwrap();
        assert_eq!(t.lines().count(), 4, "{t}");
        let w1 = t.lines().find(|l| l.contains("worker 1 of 2")).unwrap();
        assert!(w1.contains("5.0 → 40.0 MiB"), "{w1}");
        assert!(
            w1.contains("LEAK (js-heap); ran out of memory; restarted as pid 13"),
            "{w1}"
        );
        assert!(t
            .lines()
            .any(|l| l.contains("primary, pid 10") && l.contains("no-leak")));

        let mut md = String::new();
        markdown(&r, &mut md);
        assert_eq!(md.matches("\n| ").count(), 4, "{md}");
        assert!(
            md.contains("| worker 2 of 2, pid 12 | worker | yes | 5.0 → 30.0 MiB |"),
            "{md}"
        );

        let mut h = String::new();
        html(&r, &mut h);
        assert_eq!(h.matches("<svg").count(), 1);
        assert!(h.contains("worker 2 of 2, pid 12 (leak)"), "{h}");
    }

    #[test]
    fn a_run_on_another_axis_prints_each_slope_in_its_unit() {
        let mut r = cluster();
        for p in &mut r.processes {
            p.driver = Some(leakhound_schema::endpoint::Driver::Time);
            p.retained_bytes_per_unit = Some(1.5 * MIB);
            p.unit = Some("second".into());
        }
        r.processes[0].retained_bytes_per_unit = Some(12.0);
        let mut out = Vec::new();
        text(&r, &mut out).unwrap();
        let t = String::from_utf8(out).unwrap();
        let w1 = t.lines().find(|l| l.contains("worker 1 of 2")).unwrap();
        assert!(w1.contains("1.5 MiB/second"), "{w1}");
        let p = t.lines().find(|l| l.contains("primary")).unwrap();
        assert!(p.contains("12 B/second"), "{p}");
        assert!(!t.contains("request"), "{t}");
        let mut md = String::new();
        markdown(&r, &mut md);
        assert!(md.contains("| 1.5 MiB/second | LEAK (js-heap) |"), "{md}");
        assert!(!md.contains("request"), "{md}");
        let mut h = String::new();
        html(&r, &mut h);
        assert!(h.contains("1.5 MiB/second"), "{h}");
        assert!(!h.contains("B/request"), "{h}");
        // A report without a unit (older, or request-driven) says per request.
        let mut out = Vec::new();
        text(&cluster(), &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("640 B/request"));
    }

    #[test]
    fn one_process_shows_no_table() {
        let mut r = cluster();
        r.processes.truncate(1);
        let mut out = Vec::new();
        text(&r, &mut out).unwrap();
        assert!(out.is_empty());
        let mut md = String::new();
        markdown(&r, &mut md);
        html(&r, &mut md);
        assert!(md.is_empty());
    }
}
