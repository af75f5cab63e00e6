//! `leakhound attach`'s result (`leakhound.attach/v1`): the verdict on a live process as
//! text, JSON, Markdown or a self-contained HTML page.

use std::fmt::Write as _;
use std::io;

use leakhound_schema::attach::{AttachMethod, AttachReport};
use leakhound_schema::Verdict;

use super::{write_json, Html, Json, Markdown, Render, Text};
use crate::charts::{BLUE, VERMILLION};
use crate::escape::html as esc;
use crate::format;
use crate::svg::{downsample, Chart, Series, Style, MAX_POINTS};

const MIB: f64 = 1024.0 * 1024.0;
/// Sample rows the text table shows at most (thinned evenly beyond).
const MAX_ROWS: usize = 15;

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Leak => "LEAK",
        Verdict::NoLeak => "no leak",
        Verdict::Inconclusive => "inconclusive",
        Verdict::TargetFailed => "target failed",
        Verdict::Interrupted => "interrupted",
    }
}

fn method_words(r: &AttachReport) -> &'static str {
    match r.method {
        AttachMethod::ForcedGc => "a full GC forced before each sample",
        AttachMethod::GcObserver => "the heap after each major GC the process did by itself",
    }
}

fn rate(r: &AttachReport) -> Option<String> {
    let b = r.bytes_per_hour?;
    Some(match r.ci_bytes_per_hour {
        Some([lo, hi]) => format!(
            "{:+.1} MiB/hour [95% CI {:.1}, {:.1}]",
            b / MIB,
            lo / MIB,
            hi / MIB
        ),
        None => format!("{:+.1} MiB/hour", b / MIB),
    })
}

/// The figures as (label, value) rows, shared by text, Markdown and HTML.
fn figures(r: &AttachReport) -> Vec<(&'static str, String)> {
    let mut rows = vec![(
        "watched",
        format!(
            "{} (a sample every {}; {})",
            format::duration(r.watched_s),
            format::duration(r.sample_every_s),
            method_words(r)
        ),
    )];
    if let (Some(a), Some(b)) = (r.floor.first(), r.floor.last()) {
        rows.push((
            "post-GC heap",
            format!(
                "{} → {} ({} points)",
                format::bytes(a.heap_used),
                format::bytes(b.heap_used),
                r.floor.len()
            ),
        ));
    }
    if let Some(s) = rate(r) {
        let r2 = r
            .r_squared
            .map(|v| format!(" (R² {v:.3})"))
            .unwrap_or_default();
        rows.push(("slope", format!("{s}{r2}")));
    }
    if let Some(p) = r.mann_kendall_p {
        rows.push(("Mann–Kendall p", format_p(p)));
    }
    if let Some(limit) = r.heap_limit_bytes {
        let tto = r.time_to_oom_s.map_or_else(
            || "no time to OOM (the floor does not rise)".to_string(),
            |t| format!("out of memory in about {}", format::duration(t)),
        );
        rows.push(("heap limit", format!("{}; {tto}", format::bytes(limit))));
    }
    if let (Some(a), Some(b)) = (r.samples.first(), r.samples.last()) {
        rows.push((
            "RSS",
            format!("{} → {}", format::bytes(a.rss), format::bytes(b.rss)),
        ));
        rows.push((
            "external",
            format!(
                "{} → {}",
                format::bytes(a.external),
                format::bytes(b.external)
            ),
        ));
    }
    let share =
        r.gc.share
            .map(|s| format!(", {} of the time", format::percent(s)))
            .unwrap_or_default();
    rows.push((
        "GC",
        format!("{} GCs ({} major){share}", r.gc.count, r.gc.major_count),
    ));
    rows
}

fn format_p(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

fn headline(r: &AttachReport) -> String {
    let node = r
        .node_version
        .as_deref()
        .map(|v| format!(", Node {v}"))
        .unwrap_or_default();
    format!(
        "leakhound attach: {} (pid {}, inspector {}{node})",
        verdict_word(r.verdict),
        r.pid,
        r.inspector
    )
}

impl Render<AttachReport> for Text {
    fn render(&self, r: &AttachReport, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "{}", headline(r))?;
        writeln!(out, "{}\n", r.reason)?;
        let rows = figures(r);
        let w = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, v) in &rows {
            writeln!(out, "  {k:<w$}  {v}")?;
        }
        if !r.samples.is_empty() {
            writeln!(
                out,
                "\n  {:>7}  {:>10}  {:>10}  {:>10}  {:>10}",
                "t", "heap used", "heap total", "external", "rss"
            )?;
            for s in downsample(&r.samples, MAX_ROWS) {
                writeln!(
                    out,
                    "  {:>7}  {:>10}  {:>10}  {:>10}  {:>10}",
                    format!("{:.1}s", s.t_s),
                    format::bytes(s.heap_used),
                    format::bytes(s.heap_total),
                    format::bytes(s.external),
                    format::bytes(s.rss)
                )?;
            }
            if r.samples.len() > MAX_ROWS {
                writeln!(out, "  ({} samples, {MAX_ROWS} shown)", r.samples.len())?;
            }
        }
        if !r.alloc_survivors.is_empty() {
            writeln!(out, "\nallocation sites of what survived:")?;
            for s in &r.alloc_survivors {
                writeln!(
                    out,
                    "  {:>9}  {:>5}  {} ({})",
                    format::bytes_u64(s.bytes),
                    format::percent(s.share),
                    s.function,
                    s.location
                )?;
            }
        }
        if !r.suspects.is_empty() {
            writeln!(out, "\nheap-snapshot suspects:")?;
            for s in &r.suspects {
                writeln!(out, "  {} ({})", s.title, format::bytes_u64(s.bytes))?;
                writeln!(out, "    {}", s.path.join(" > "))?;
            }
        }
        if !r.snapshots.is_empty() {
            writeln!(out, "\nsnapshots:")?;
            for s in &r.snapshots {
                writeln!(
                    out,
                    "  {} ({}, the process paused {:.2} s)",
                    s.path,
                    format::bytes_u64(s.bytes),
                    s.pause_s
                )?;
            }
        }
        if !r.notes.is_empty() {
            writeln!(out, "\nnotes:")?;
            for n in &r.notes {
                writeln!(out, "  - {n}")?;
            }
        }
        Ok(())
    }
}

impl Render<AttachReport> for Json {
    fn render(&self, r: &AttachReport, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(r, out)
    }
}

use crate::escape::table_pipes as md_escape;

impl Render<AttachReport> for Markdown {
    fn render(&self, r: &AttachReport, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "## {}\n", md_escape(&headline(r)))?;
        writeln!(out, "{}\n", md_escape(&r.reason))?;
        writeln!(out, "| | |\n|---|---|")?;
        for (k, v) in figures(r) {
            writeln!(out, "| {k} | {} |", md_escape(&v))?;
        }
        if !r.alloc_survivors.is_empty() {
            writeln!(out, "\n### Allocation sites of what survived\n")?;
            writeln!(
                out,
                "| function | location | bytes | share |\n|---|---|--:|--:|"
            )?;
            for s in &r.alloc_survivors {
                writeln!(
                    out,
                    "| `{}` | `{}` | {} | {} |",
                    md_escape(&s.function),
                    md_escape(&s.location),
                    format::bytes_u64(s.bytes),
                    format::percent(s.share)
                )?;
            }
        }
        if !r.suspects.is_empty() {
            writeln!(out, "\n### Heap-snapshot suspects\n")?;
            for s in &r.suspects {
                writeln!(
                    out,
                    "- **{}** ({}): `{}`",
                    md_escape(&s.title),
                    format::bytes_u64(s.bytes),
                    md_escape(&s.path.join(" > "))
                )?;
            }
        }
        if !r.snapshots.is_empty() {
            writeln!(out, "\n### Snapshots\n")?;
            for s in &r.snapshots {
                writeln!(
                    out,
                    "- `{}` ({}, paused {:.2} s)",
                    md_escape(&s.path),
                    format::bytes_u64(s.bytes),
                    s.pause_s
                )?;
            }
        }
        if !r.notes.is_empty() {
            writeln!(out, "\n### Notes\n")?;
            for n in &r.notes {
                writeln!(out, "- {}", md_escape(n))?;
            }
        }
        Ok(())
    }
}

/// The memory chart: every sample's heap, RSS and external, the post-GC floor as dots, and
/// the fitted line over the floor.
fn chart(r: &AttachReport) -> Chart {
    let pts = |f: fn(&leakhound_schema::attach::AttachSample) -> f64| -> Vec<(f64, f64)> {
        downsample(&r.samples, MAX_POINTS)
            .iter()
            .map(|s| (s.t_s, f(s) / MIB))
            .collect()
    };
    let mut series = vec![
        Series {
            name: "heap used".into(),
            color: BLUE,
            style: Style::Line,
            points: pts(|s| s.heap_used),
        },
        Series {
            name: "RSS".into(),
            color: "#CC79A7",
            style: Style::Line,
            points: pts(|s| s.rss),
        },
        Series {
            name: "external".into(),
            color: "#E69F00",
            style: Style::Line,
            points: pts(|s| s.external),
        },
        Series {
            name: "post-GC heap (fitted)".into(),
            color: "#009E73",
            style: Style::Dots,
            points: downsample(&r.floor, MAX_POINTS)
                .iter()
                .map(|p| (p.t_s, p.heap_used / MIB))
                .collect(),
        },
    ];
    if let (Some(slope), Some(a), Some(b)) =
        (r.slope_bytes_per_second, r.floor.first(), r.floor.last())
    {
        // Through the floor's median residual, as Theil–Sen draws it.
        let mut resid: Vec<f64> = r
            .floor
            .iter()
            .map(|p| p.heap_used - slope * p.t_s)
            .collect();
        resid.sort_by(f64::total_cmp);
        let c = resid[resid.len() / 2];
        series.push(Series {
            name: format!("fit: {:+.1} MiB/hour", slope * 3600.0 / MIB),
            color: VERMILLION,
            style: Style::Dashed,
            points: vec![
                (a.t_s, (c + slope * a.t_s) / MIB),
                (b.t_s, (c + slope * b.t_s) / MIB),
            ],
        });
    }
    Chart {
        title: "Memory of the watched process over time".into(),
        x_label: "seconds since attach".into(),
        y_label: "MiB".into(),
        series,
        y_from_zero: true,
    }
}

impl Render<AttachReport> for Html {
    fn render(&self, r: &AttachReport, out: &mut dyn io::Write) -> io::Result<()> {
        let mut o = String::with_capacity(16 * 1024);
        let _ = write!(
            o,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{}</title><style>{}</style></head><body><main>",
            esc(&headline(r)),
            crate::html::CSS
        );
        let _ = write!(
            o,
            "<header><h1>leakhound attach</h1><span class=\"cmd\">pid {} · inspector {}</span></header>",
            r.pid,
            esc(&r.inspector)
        );
        let _ = write!(
            o,
            "<section class=\"banner {}\"><p class=\"verdict\">{}</p><p class=\"lead\">{}</p></section>",
            r.verdict.as_str(),
            esc(verdict_word(r.verdict)),
            esc(&r.reason)
        );
        o.push_str("<h2>Figures</h2><table>");
        for (k, v) in figures(r) {
            let _ = write!(o, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
        }
        o.push_str("</table><h2>Memory over time</h2><div class=\"charts\"><figure><figcaption>");
        o.push_str(&esc(method_words(r)));
        o.push_str("</figcaption>");
        o.push_str(&chart(r).render());
        o.push_str("</figure></div>");
        if !r.alloc_survivors.is_empty() {
            o.push_str("<h2>Allocation sites of what survived</h2><table><tr><th>function</th><th>location</th><th>bytes</th><th>share</th></tr>");
            for s in &r.alloc_survivors {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&s.function),
                    esc(&s.location),
                    esc(&format::bytes_u64(s.bytes)),
                    esc(&format::percent(s.share))
                );
            }
            o.push_str("</table>");
        }
        if !r.suspects.is_empty() {
            o.push_str("<h2>Heap-snapshot suspects</h2>");
            for s in &r.suspects {
                let _ = write!(
                    o,
                    "<div class=\"suspect\"><b>{}</b> ({})<ol>",
                    esc(&s.title),
                    esc(&format::bytes_u64(s.bytes))
                );
                for step in &s.path {
                    let _ = write!(o, "<li>{}</li>", esc(step));
                }
                o.push_str("</ol></div>");
            }
        }
        if !r.snapshots.is_empty() {
            o.push_str("<h2>Snapshots</h2><ul>");
            for s in &r.snapshots {
                let _ = write!(
                    o,
                    "<li>{} ({}, the process paused {:.2} s)</li>",
                    esc(&s.path),
                    esc(&format::bytes_u64(s.bytes)),
                    s.pause_s
                );
            }
            o.push_str("</ul>");
        }
        if !r.notes.is_empty() {
            o.push_str("<h2>Notes</h2><ul>");
            for n in &r.notes {
                let _ = write!(o, "<li>{}</li>", esc(n));
            }
            o.push_str("</ul>");
        }
        o.push_str("<footer>leakhound.attach/v1</footer></main></body></html>\n");
        out.write_all(o.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_string;
    use leakhound_schema::attach::{AttachSample, FloorPoint, SnapshotOut};
    use leakhound_schema::run::SuspectOut;

    fn report() -> AttachReport {
        let samples: Vec<AttachSample> = (0..7)
            .map(|k| AttachSample {
                t_s: 5.0 * k as f64,
                heap_used: (20.0 + 5.0 * k as f64) * MIB,
                heap_total: 64.0 * MIB,
                external: MIB,
                rss: 80.0 * MIB,
                after_forced_gc: true,
                gc_pause_s: Some(0.01),
            })
            .collect();
        AttachReport {
            schema: leakhound_schema::attach::SCHEMA.into(),
            verdict: Verdict::Leak,
            reason: "the post-GC heap moved +30.0 MiB in 30 s".into(),
            pid: 4242,
            inspector: "127.0.0.1:9229".into(),
            opened_inspector: true,
            node_version: Some("v20.20.2".into()),
            method: AttachMethod::ForcedGc,
            duration_s: 30.0,
            sample_every_s: 5.0,
            watched_s: 30.2,
            floor: samples
                .iter()
                .map(|s| FloorPoint {
                    t_s: s.t_s,
                    heap_used: s.heap_used,
                })
                .collect(),
            samples,
            slope_bytes_per_second: Some(MIB),
            bytes_per_hour: Some(3600.0 * MIB),
            ci_bytes_per_hour: Some([3500.0 * MIB, 3700.0 * MIB]),
            mann_kendall_p: Some(0.0004),
            heap_limit_bytes: Some(4096.0 * MIB),
            time_to_oom_s: Some(4046.0),
            suspects: vec![SuspectOut {
                title: "2500 Session objects <b>".into(),
                bytes: 3 << 20,
                percent: 10.0,
                path: vec!["(GC roots)".into(), "cache (Map)".into()],
                full_path: Vec::new(),
                signature: String::new(),
                source: Vec::new(),
            }],
            snapshots: vec![SnapshotOut {
                path: "/tmp/s|1.heapsnapshot".into(),
                bytes: 5 << 20,
                pause_s: 0.42,
                t_s: 0.1,
            }],
            notes: vec!["a note".into()],
            ..Default::default()
        }
    }

    #[test]
    fn text_tells_the_verdict_rate_and_time_to_oom() {
        let t = to_string(&Text, &report());
        assert!(
            t.starts_with(
                "leakhound attach: LEAK (pid 4242, inspector 127.0.0.1:9229, Node v20.20.2)"
            ),
            "{t}"
        );
        for want in [
            "+3600.0 MiB/hour [95% CI 3500.0, 3700.0]",
            "Mann–Kendall p  0.0004",
            "out of memory in about 67.4 min",
            "20.0 MiB → 50.0 MiB (7 points)",
            "the process paused 0.42 s",
            "  - a note",
        ] {
            assert!(t.contains(want), "{want} in\n{t}");
        }
    }

    #[test]
    fn json_round_trips_markdown_and_html_escape() {
        let r = report();
        let back: AttachReport = serde_json::from_str(&to_string(&Json, &r)).unwrap();
        assert_eq!(back, r);
        let md = to_string(&Markdown, &r);
        assert!(md.starts_with("## leakhound attach: LEAK"), "{md}");
        assert!(md.contains("s\\|1.heapsnapshot"), "{md}");
        let html = to_string(&Html, &r);
        assert!(html.contains("<section class=\"banner leak\">"), "{html}");
        assert!(html.contains("Session objects &lt;b&gt;"));
        assert!(html.contains("<svg class=\"chart\""));
        assert!(html.contains("fit: +3600.0 MiB/hour"));
    }
}
