//! The HTML report: one self-contained file (inline CSS and SVG, no script, no network) that
//! can be attached to a ticket and opened offline.
//!
//! Everything taken from the report is escaped: app output and evidence are untrusted.

use std::fmt::Write;

use crate::charts::{self, BLUE, VERMILLION};
pub use crate::escape::html as esc;
use crate::format;
use crate::run_schema::{AllocSiteOut, LeakKind, RunReport, Verdict};

/// The report style, shared with the heap summary page (`render::heap_html`).
pub(crate) const CSS: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#f6f7f9;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 24px 48px}
header{display:flex;justify-content:space-between;align-items:baseline;gap:16px;flex-wrap:wrap}
header h1{font-size:18px;margin:0;letter-spacing:.02em}
header .cmd{color:var(--muted);font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
h2{font-size:17px;margin:32px 0 10px}
h3{font-size:14px;margin:0 0 6px;color:var(--muted);font-weight:600}
.banner{margin-top:16px;border-radius:10px;padding:18px 22px;border:1px solid;border-left-width:8px}
.banner.leak{background:#fdf0ec;border-color:#c43c00}
.banner.no-leak{background:#eaf6f1;border-color:#00784f}
.banner.inconclusive,.banner.interrupted{background:#fdf6e4;border-color:#a86b00}
.banner.target-failed{background:#f1f1f4;border-color:#5b6475}
.banner .verdict{font-size:28px;font-weight:700;margin:0}
.banner .lead{font-size:16px;margin:4px 0 8px}
.banner ul{margin:8px 0 0;padding-left:20px}
.banner .proj{font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.stat b{display:block;font-size:19px;font-variant-numeric:tabular-nums}
.stat span{color:var(--muted);font-size:12.5px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:14px}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
figcaption{font-weight:600;font-size:14px;margin-bottom:4px}
figure p.note{margin:2px 0 0;color:var(--muted);font-size:12.5px}
svg.chart{width:100%;height:auto;display:block;font-family:inherit}
svg .grid{stroke:#e8ebf0;stroke-width:1}
svg .axis{stroke:#8a93a3;stroke-width:1}
svg .tick{fill:#5b6475;font-size:11px}
svg .label{fill:#394150;font-size:12px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;color:var(--muted);margin-top:2px}
.legend i{display:inline-block;width:18px;height:0;border-top:3px solid var(--c);margin-right:6px;vertical-align:middle}
.legend i.dash{border-top-style:dashed}
.legend i.dot{width:9px;height:9px;border:0;border-radius:50%;background:var(--c)}
.bars{list-style:none;margin:0;padding:0}
.bars li{display:grid;grid-template-columns:minmax(0,1fr) 92px;gap:2px 10px;padding:5px 0;border-bottom:1px solid #eef0f3}
.bars .fn{font-weight:600;overflow-wrap:anywhere}
.bars .loc{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--muted);overflow-wrap:anywhere}
.bars .num{text-align:right;font-variant-numeric:tabular-nums;grid-row:span 2;align-self:center}
.bars .bar{grid-column:1/-1;height:6px;border-radius:3px;background:#e8ebf0}
.bars .bar>div{height:6px;border-radius:3px;background:var(--c)}
.suspect{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;margin-bottom:10px}
.suspect ol{margin:6px 0 0;padding-left:22px;font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#1d2330;color:#e6e9ef;padding:12px;border-radius:8px;overflow:auto;font-size:12px;max-height:320px}
table{border-collapse:collapse;font-size:13.5px}
td,th{border-bottom:1px solid var(--line);padding:4px 12px 4px 0;text-align:left}
.empty{color:var(--muted);font-style:italic}
footer{margin-top:36px;color:var(--muted);font-size:12.5px}
"#;

pub fn render(r: &RunReport) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>leakhound: {}</title><style>{CSS}{}{}</style></head><body><main>",
        esc(r.verdict.as_str()),
        crate::flame::CSS,
        crate::suspect_html::CSS
    );
    let _ = write!(
        o,
        "<header><h1>leakhound report</h1><div class=\"cmd\">{}</div></header>",
        esc(&r.command.join(" "))
    );
    banner(&mut o, r);
    numbers(&mut o, r);
    o.push_str(&crate::render::endpoints::html(&r.endpoints));
    charts::memory(&mut o, r);
    crate::render::processes::html(r, &mut o);
    crate::threads::html(&mut o, r);
    charts::gc(&mut o, r);
    charts::throughput(&mut o, r);
    if let Some(c) = &r.culprit {
        let _ = write!(
            o,
            "<h2>Culprit</h2><p class=\"culprit\">{}</p>",
            esc(&c.sentence)
        );
    }
    allocations(&mut o, r);
    crate::flame::html(&mut o, r);
    suspects(&mut o, r);
    crate::render::patterns::html(r, &mut o);
    logs(&mut o, r);
    let _ = write!(
        o,
        "<footer>Generated by leakhound {} from a <code>{}</code> result. Samples are taken \
         after a forced full GC; the fitted line's slope is the retained bytes per request.\
         </footer></main></body></html>",
        env!("CARGO_PKG_VERSION"),
        esc(&r.schema)
    );
    o
}

fn banner(o: &mut String, r: &RunReport) {
    let class = match r.verdict {
        Verdict::Leak => "leak",
        Verdict::NoLeak => "no-leak",
        Verdict::Inconclusive => "inconclusive",
        Verdict::TargetFailed => "target-failed",
        Verdict::Interrupted => "interrupted",
    };
    let title = match (r.verdict, r.leak_kind) {
        (Verdict::Leak, LeakKind::None) => "Leak".to_string(),
        (Verdict::Leak, k) => format!("Leak ({k})"),
        (Verdict::NoLeak, _) => "No leak".into(),
        (Verdict::Inconclusive, _) => "Inconclusive".into(),
        (Verdict::TargetFailed, _) => "Target failed".into(),
        (Verdict::Interrupted, _) => "Interrupted: no verdict".into(),
    };
    let _ = write!(
        o,
        "<section class=\"banner {class}\" role=\"status\"><p class=\"verdict\">{}{}</p>",
        esc(&title),
        if r.oom { " — out of memory" } else { "" }
    );
    let ci = r
        .retained_bytes_per_request_ci
        .map(|[lo, hi]| {
            format!(
                " (95% interval {} to {})",
                format::bytes(lo),
                format::bytes(hi)
            )
        })
        .unwrap_or_default();
    let _ = write!(
        o,
        "<p class=\"lead\">Retained <b>{}</b> per request{} over {} requests.</p>",
        esc(&format::bytes(r.retained_bytes_per_request)),
        esc(&ci),
        format::thousands(r.requests)
    );
    if let Some(p) = &r.projection {
        let _ = write!(
            o,
            "<p class=\"proj\">Production projection: {}.</p>",
            esc(p)
        );
    }
    if let Some(p) = &r.allocation_pressure {
        let _ = write!(o, "<p class=\"proj\">Allocation pressure: {}</p>", esc(p));
    }
    if let Some(f) = &r.target_failed {
        let _ = write!(o, "<p class=\"proj\">Target failed: {}</p>", esc(f));
    }
    if let Some(why) = r
        .reason
        .as_ref()
        .filter(|w| r.target_failed.as_ref() != Some(*w))
    {
        let _ = write!(o, "<p class=\"proj\">Why: {}</p>", esc(why));
    }
    if !r.evidence.is_empty() {
        o.push_str("<ul>");
        for e in &r.evidence {
            let _ = write!(o, "<li>{}</li>", esc(e));
        }
        o.push_str("</ul>");
    }
    if !r.warnings.is_empty() {
        o.push_str("<ul class=\"warnings\">");
        for w in &r.warnings {
            let _ = write!(o, "<li>Warning: {}</li>", esc(w));
        }
        o.push_str("</ul>");
    }
    o.push_str("</section>");
}

fn numbers(o: &mut String, r: &RunReport) {
    let mut stats: Vec<(String, String)> = vec![
        (format::thousands(r.requests), "requests".into()),
        (format::duration(r.duration_s), "duration".into()),
        (
            format!("{:.0}", r.requests_per_second),
            "requests / s".into(),
        ),
        (
            format!("{} / {}", r.http_errors, r.transport_errors),
            "HTTP / transport errors".into(),
        ),
    ];
    if r.heap_limit_bytes > 0 {
        stats.push((
            format::bytes(r.heap_limit_bytes as f64),
            "heap limit".into(),
        ));
    }
    if let Some(g) = r.gc_time_share {
        stats.push((format::percent(g), "time in GC".into()));
    }
    stats.push((
        format!("{} / {}", r.gc_count, r.major_gc_count),
        "GCs / major GCs".into(),
    ));
    if let Some(a) = r.allocated_bytes_per_request {
        stats.push((format::bytes(a), "allocated per request".into()));
    }
    if let Some(r2) = r.r_squared {
        stats.push((format!("{r2:.3}"), "R² of the fit".into()));
    }
    if let Some(p) = r.mann_kendall_p {
        stats.push((format!("{p:.2e}"), "Mann–Kendall p (trend)".into()));
    }
    o.push_str("<h2>The run</h2><div class=\"grid\">");
    for (v, k) in stats {
        let _ = write!(
            o,
            "<div class=\"stat\"><b>{}</b><span>{}</span></div>",
            esc(&v),
            esc(&k)
        );
    }
    o.push_str("</div>");
}

fn site_bars(o: &mut String, title: &str, note: &str, sites: &[AllocSiteOut], color: &str) {
    let _ = write!(
        o,
        "<figure><figcaption>{}</figcaption><p class=\"note\">{}</p>",
        esc(title),
        esc(note)
    );
    if sites.is_empty() {
        o.push_str("<p class=\"empty\">No allocation profile in this run.</p></figure>");
        return;
    }
    let max = sites.iter().map(|s| s.bytes).max().unwrap_or(1).max(1) as f64;
    o.push_str("<ol class=\"bars\">");
    for s in sites.iter().take(12) {
        let _ = write!(
            o,
            "<li><span class=\"fn\">{}</span><span class=\"num\">{}<br><small>{}</small></span>\
             <span class=\"loc\">{}</span><span class=\"bar\"><div style=\"width:{:.1}%;--c:{color}\">\
             </div></span></li>",
            esc(&s.function),
            esc(&format::bytes(s.bytes as f64)),
            esc(&format::percent(s.share)),
            esc(&s.location),
            (s.bytes as f64 / max * 100.0).clamp(0.5, 100.0)
        );
    }
    o.push_str("</ol></figure>");
}

fn allocations(o: &mut String, r: &RunReport) {
    if r.alloc_all.is_empty() && r.alloc_survivors.is_empty() {
        return;
    }
    o.push_str("<h2>Allocation sites</h2><div class=\"charts\">");
    site_bars(
        o,
        "What survives",
        "Sampled allocations still alive at the end: where a leak shows up.",
        &r.alloc_survivors,
        VERMILLION,
    );
    site_bars(
        o,
        "All allocations",
        "Including garbage already collected: where allocation pressure comes from.",
        &r.alloc_all,
        BLUE,
    );
    o.push_str("</div>");
}

fn suspects(o: &mut String, r: &RunReport) {
    if r.suspects.is_empty() {
        return;
    }
    o.push_str("<h2>Heap snapshot suspects</h2>");
    for s in r.suspects.iter().take(10) {
        let _ = write!(
            o,
            "<div class=\"suspect\"><b>{}</b> — {} ({:.1}% of the heap)",
            esc(&s.title),
            esc(&format::bytes(s.bytes as f64)),
            s.percent
        );
        crate::suspect_html::chain(o, &s.path);
        if !s.source.is_empty() {
            o.push_str("<table class=\"source\">");
            for l in &s.source {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    esc(&l.kind),
                    esc(&l.location),
                    esc(&l.code)
                );
            }
            o.push_str("</table>");
        }
        crate::suspect_html::excerpts(o, &s.source, &r.source_excerpts);
        o.push_str("</div>");
    }
}

fn logs(o: &mut String, r: &RunReport) {
    if !r.mem_lines.is_empty() {
        o.push_str("<h2>The app's own memory lines</h2><table><tr><th>label</th><th>MB</th></tr>");
        for m in r.mem_lines.iter().rev().take(20).rev() {
            let _ = write!(o, "<tr><td>{}</td><td>{:.1}</td></tr>", esc(&m.label), m.mb);
        }
        o.push_str("</table>");
    }
    let block = |o: &mut String, title: &str, lines: &[String]| {
        if lines.is_empty() {
            return;
        }
        let _ = write!(o, "<h2>{}</h2><pre>", esc(title));
        for l in lines.iter().rev().take(40).rev() {
            let _ = writeln!(o, "{}", esc(l));
        }
        o.push_str("</pre>");
    };
    if r.oom || r.target_failed.is_some() {
        block(o, "Last GC trace lines", &r.gc_last_lines);
        block(o, "Last lines of the app's stderr", &r.target_stderr_tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_schema::{
        FitAxis, GcEventOut, RoundOut, RunSample, SeriesName, SourceLine, SuspectOut,
    };

    fn sample_report() -> RunReport {
        RunReport {
            schema: crate::run_schema::SCHEMA.into(),
            verdict: leakhound_schema::Verdict::Leak,
            leak_kind: leakhound_schema::LeakKind::JsHeap,
            retained_bytes_per_request: 2048.0,
            command: vec!["node".into(), "<evil>.js".into()],
            evidence: vec!["<script>alert(1)</script>".into()],
            samples: (0..10)
                .map(|i| RunSample {
                    t_s: i as f64,
                    requests: i * 1000,
                    heap_used: 5_000_000 + i * 2_048_000,
                    external: 1_000_000,
                    array_buffers: 10_000,
                    rss: 50_000_000 + i * 3_000_000,
                    phase: if i == 0 {
                        leakhound_schema::Phase::Baseline
                    } else {
                        leakhound_schema::Phase::Load
                    },
                })
                .collect(),
            gc_events: (0..5000)
                .map(|i| GcEventOut {
                    t_s: i as f64 * 0.01,
                    collector: if i % 10 == 0 {
                        leakhound_schema::gc::Collector::MarkCompact
                    } else {
                        leakhound_schema::gc::Collector::Scavenge
                    },
                    before_mb: 20.0,
                    after_mb: 10.0,
                    pause_ms: 1.0,
                    freed_share: 0.5,
                })
                .collect(),
            rounds: vec![
                RoundOut {
                    t_s: 1.0,
                    requests_per_second: 900.0,
                    p50_ms: 1.0,
                    p99_ms: 5.0,
                },
                RoundOut {
                    t_s: 2.0,
                    requests_per_second: 950.0,
                    p50_ms: 1.1,
                    p99_ms: 4.0,
                },
            ],
            alloc_survivors: vec![AllocSiteOut {
                function: "cache<set>".into(),
                location: "server.js:10".into(),
                bytes: 100,
                share: 1.0,
                ..Default::default()
            }],
            suspects: vec![SuspectOut {
                title: "Map".into(),
                bytes: 1000,
                percent: 40.0,
                path: vec!["(GC roots)".into(), "global.cache".into()],
                full_path: Vec::new(),
                signature: String::new(),
                source: vec![SourceLine {
                    kind: "grows".into(),
                    location: "server.js:12".into(),
                    code: "cache.set(k, '<script>')".into(),
                }],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn everything_from_the_report_is_escaped() {
        let h = render(&sample_report());
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(h.contains("&lt;evil&gt;.js"));
        assert!(h.contains("cache&lt;set&gt;"));
        // The suspect's source lines are shown, escaped.
        assert!(h.contains("<code>server.js:12</code></td><td><code>cache.set(k, &#39;&lt;script&gt;&#39;)</code>")
            || h.contains("<code>server.js:12</code></td><td><code>cache.set(k, '&lt;script&gt;')</code>"), "{h}");
    }

    #[test]
    fn the_page_is_self_contained_and_small() {
        let h = render(&sample_report());
        // The only URL is the SVG namespace, which is never fetched.
        assert_eq!(
            h.matches("http").count(),
            h.matches("http://www.w3.org/2000/svg").count()
        );
        for bad in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
            assert!(!h.contains(bad), "{bad}");
        }
        // 5000 GC events are thinned: the page stays small.
        assert!(h.len() < 200_000, "{}", h.len());
        assert!(h.matches("<svg").count() >= 6);
        assert!(h.contains("server.js:10") && h.contains("global.cache"));
        assert!(h.contains("fit: 2.0 KiB per request"));
    }

    #[test]
    fn sites_from_a_real_profile_show_file_and_line() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/heapprofile/node20-heap-prof.heapprofile"
        );
        let profile = leakhound_profile::parse(&std::fs::read(path).unwrap()).unwrap();
        let summary = leakhound_profile::summarize(&profile, None, 5);
        let sites: Vec<AllocSiteOut> = summary.top_self.iter().map(AllocSiteOut::from).collect();
        assert!(!sites.is_empty());
        let r = RunReport {
            alloc_all: sites.clone(),
            ..Default::default()
        };
        let h = render(&r);
        let first = &summary.top_self[0];
        assert!(
            h.contains(&esc(&first.site.location())),
            "{}",
            first.site.location()
        );
        assert_eq!(sites[0].bytes, first.bytes);
        assert!(h.contains("All allocations"));
    }

    /// The figure (caption to `</figure>`) whose caption starts with `caption`.
    fn figure_of<'a>(h: &'a str, caption: &str) -> &'a str {
        let start = h.find(&format!("<figcaption>{caption}")).unwrap();
        &h[start..start + h[start..].find("</figure>").unwrap()]
    }

    #[test]
    fn an_external_leak_is_drawn_over_the_external_series() {
        let mut r = sample_report();
        r.leak_kind = leakhound_schema::LeakKind::External;
        for (i, s) in r.samples.iter_mut().enumerate() {
            s.heap_used = 5_000_000;
            s.external = 1_000_000 + i as u64 * 3_000_000;
        }
        r.retained_bytes_per_request = 3000.0;
        r.fit = Some(crate::run_schema::FitOut {
            series: SeriesName::External,
            x: FitAxis::Requests,
            slope: 3000.0,
            intercept: 1_000_000.0,
            ci_low: 2900.0,
            ci_high: 3100.0,
            r_squared: 0.99,
            samples_used: (1..10).collect(),
        });
        let h = render(&r);
        let heap = figure_of(&h, "JS heap");
        let other = figure_of(&h, "External memory");
        assert!(!heap.contains("fit:"), "{heap}");
        assert!(other.contains("fit: 2.9 KiB per request"), "{other}");
        assert!(other.contains("external memory against requests over 9 samples"));
        assert!(other.contains("95% interval 2.8 KiB to 3.0 KiB per request"));
        // The dashed line ends on the fitted values of the first and last samples used:
        // 1 + 3000·1000 bytes … in MiB on the chart, the same as the external series there.
        assert_eq!(other.matches("stroke-dasharray").count(), 1);
    }

    #[test]
    fn a_fit_against_seconds_is_drawn_at_the_samples_it_used() {
        let mut r = sample_report();
        r.fit = Some(crate::run_schema::FitOut {
            series: SeriesName::Rss,
            x: FitAxis::Seconds,
            slope: 3_000_000.0,
            intercept: 50_000_000.0,
            ci_low: 2_900_000.0,
            ci_high: 3_100_000.0,
            r_squared: 1.0,
            samples_used: vec![1, 2, 3, 4],
        });
        let h = render(&r);
        let other = figure_of(&h, "External memory");
        assert!(other.contains("fit: 2.9 MiB per second"), "{other}");
        assert!(other.contains("RSS against seconds over 4 samples"));
        // Not straightened to two ends: one vertex per sample used.
        let line = &other[other.find("stroke-dasharray").unwrap()..];
        let pts = &line[line.find("points=\"").unwrap() + 8..];
        let pts = &pts[..pts.find('"').unwrap()];
        assert_eq!(pts.split(' ').count(), 4, "{pts}");
        assert!(!figure_of(&h, "JS heap").contains("fit:"));
        // The charts are against time, in seconds, not against requests.
        assert!(h.contains("Retained memory against time"), "{h}");
        assert!(other.contains("seconds since the start"), "{other}");
        assert!(!h.contains("requests completed"), "{h}");
    }

    #[test]
    fn without_a_decided_fit_the_js_heap_line_is_rebuilt() {
        let h = render(&sample_report());
        let heap = figure_of(&h, "JS heap");
        assert!(heap.contains("fit: 2.0 KiB per request"));
        assert!(heap.contains("intercept = median of"));
        assert!(!figure_of(&h, "External memory").contains("fit:"));
    }

    #[test]
    fn failed_and_interrupted_runs_say_so_with_their_reason_and_warnings() {
        let r = RunReport {
            verdict: Verdict::Interrupted,
            reason: Some("stopped by Ctrl-C after 4 rounds".into()),
            warnings: vec!["3 of 900 responses were <500>".into()],
            ..Default::default()
        };
        let h = render(&r);
        assert!(h.contains("class=\"banner interrupted\""));
        assert!(h.contains("Interrupted: no verdict"));
        assert!(h.contains("Why: stopped by Ctrl-C after 4 rounds"));
        assert!(h.contains("Warning: 3 of 900 responses were &lt;500&gt;"));
        let f = RunReport {
            verdict: Verdict::TargetFailed,
            target_failed: Some("every response was 401".into()),
            reason: Some("every response was 401".into()),
            ..Default::default()
        };
        let h = render(&f);
        assert!(h.contains("class=\"banner target-failed\"") && h.contains(">Target failed<"));
        assert_eq!(h.matches("every response was 401").count(), 1, "said once");
    }

    #[test]
    fn an_empty_report_still_renders() {
        let h = render(&RunReport::default());
        assert!(h.starts_with("<!doctype html>") && h.ends_with("</html>"));
    }
}
