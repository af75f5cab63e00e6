//! A short Markdown summary for a CI step summary (`$GITHUB_STEP_SUMMARY`) or a PR comment.

use std::fmt::Write;

use crate::fit;
use crate::format;
use crate::run_schema::RunReport;
use leakhound_schema::{LeakKind, Verdict};

pub use crate::escape::markdown as md_escape;

fn icon(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Leak => "🔴",
        Verdict::NoLeak => "🟢",
        Verdict::TargetFailed => "⚪",
        Verdict::Inconclusive | Verdict::Interrupted => "🟡",
    }
}

pub fn render(r: &RunReport) -> String {
    let mut o = String::new();
    let kind = if r.verdict == Verdict::Leak && r.leak_kind != LeakKind::None {
        format!(" ({})", r.leak_kind.as_str())
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "## {} leakhound: **{}**{kind}{}\n",
        icon(r.verdict),
        r.verdict.as_str(),
        if r.oom { " — out of memory" } else { "" }
    );
    if !r.command.is_empty() {
        let _ = writeln!(o, "Target: `{}`\n", r.command.join(" ").replace('`', "'"));
    }
    let ci = r
        .retained_bytes_per_request_ci
        .map(|[lo, hi]| format!(" (95% CI {} .. {})", format::bytes(lo), format::bytes(hi)))
        .unwrap_or_default();
    let _ = writeln!(o, "| | |\n|---|---|");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(o, "| {k} | {v} |");
    };
    row(
        "Retained per request",
        format!("{}{ci}", format::bytes(r.retained_bytes_per_request)),
    );
    row(
        "Requests",
        format!(
            "{} in {} ({:.0} req/s)",
            format::thousands(r.requests),
            format::duration(r.duration_s),
            r.requests_per_second
        ),
    );
    if let Some(l) = fit::line(r).filter(|l| l.decided) {
        let unit = fit::axis_unit(l.x);
        row(
            "Fit",
            format!(
                "{} against {unit}s: {} per {unit}{}{}, {} samples",
                fit::series_label(l.series),
                format::bytes(l.slope),
                l.ci.map(|[lo, hi]| format!(
                    " (95% CI {} .. {})",
                    format::bytes(lo),
                    format::bytes(hi)
                ))
                .unwrap_or_default(),
                l.r_squared
                    .map(|r2| format!(", R² {r2:.3}"))
                    .unwrap_or_default(),
                l.samples.len()
            ),
        );
    }
    if r.http_errors + r.transport_errors > 0 {
        row(
            "Errors",
            format!("{} HTTP, {} transport", r.http_errors, r.transport_errors),
        );
    }
    if r.heap_limit_bytes > 0 {
        row("Heap limit", format::bytes(r.heap_limit_bytes as f64));
    }
    if let Some(g) = r.gc_time_share {
        row(
            "GC share of time",
            format!(
                "{} ({} GCs, {} major)",
                format::percent(g),
                r.gc_count,
                r.major_gc_count
            ),
        );
    }
    if let Some(a) = r.allocated_bytes_per_request {
        row("Allocated per request", format::bytes(a));
    }
    let _ = writeln!(o);
    o.push_str(&crate::render::endpoints::markdown(&r.endpoints));
    if let Some(p) = &r.projection {
        let _ = writeln!(o, "**Production projection:** {}\n", md_escape(p));
    }
    if let Some(p) = &r.allocation_pressure {
        let _ = writeln!(o, "**Allocation pressure:** {}\n", md_escape(p));
    }
    if let Some(f) = &r.target_failed {
        let _ = writeln!(o, "**Target failed:** {}\n", md_escape(f));
    }
    if let Some(why) = r
        .reason
        .as_ref()
        .filter(|w| r.target_failed.as_ref() != Some(*w))
    {
        let _ = writeln!(o, "**Why:** {}\n", md_escape(why));
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(o, "**Warnings**\n");
        for w in &r.warnings {
            let _ = writeln!(o, "- {}", md_escape(w));
        }
        let _ = writeln!(o);
    }
    if !r.evidence.is_empty() {
        let _ = writeln!(o, "**Evidence**\n");
        for e in r.evidence.iter().take(8) {
            let _ = writeln!(o, "- {}", md_escape(e));
        }
        let _ = writeln!(o);
    }
    crate::render::processes::markdown(r, &mut o);
    isolates(r, &mut o);
    if let Some(c) = &r.culprit {
        let _ = writeln!(o, "**Culprit:** {}\n", md_escape(&c.sentence));
    }
    let sites = if !r.alloc_survivors.is_empty() && r.verdict == Verdict::Leak {
        Some((
            "Top allocation sites (surviving objects)",
            &r.alloc_survivors,
        ))
    } else if !r.alloc_all.is_empty() {
        Some(("Top allocation sites (all allocations)", &r.alloc_all))
    } else {
        None
    };
    if let Some((title, sites)) = sites {
        let _ = writeln!(
            o,
            "**{title}**\n\n| Function | Location | Bytes | Share |\n|---|---|---:|---:|"
        );
        for s in sites.iter().take(5) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md_escape(&s.function),
                md_escape(&s.location),
                format::bytes(s.bytes as f64),
                format::percent(s.share)
            );
        }
        let _ = writeln!(o);
    }
    crate::flame::markdown(&mut o, r);
    if let Some(s) = r.suspects.first() {
        let _ = writeln!(
            o,
            "**Top heap suspect:** {} — {} ({:.1}% of heap)\n",
            md_escape(&s.title),
            format::bytes(s.bytes as f64),
            s.percent
        );
        for l in &s.source {
            let _ = writeln!(
                o,
                "- {} at `{}`: `{}`",
                l.kind,
                l.location.replace('`', "'"),
                l.code.replace('`', "'")
            );
        }
        if !s.source.is_empty() {
            let _ = writeln!(o);
        }
    }
    crate::render::patterns::markdown(r, &mut o);
    o
}

/// The Markdown table of isolates.
fn isolates(r: &RunReport, o: &mut String) {
    use crate::threads::{name, verdict, with_threads};
    for p in with_threads(r) {
        let _ = writeln!(
            o,
            "**Isolates of {}**\n\n| Isolate | Verdict | Top surviving allocation |\n|---|---|---|",
            md_escape(&p.label)
        );
        let site = |s: &[leakhound_schema::run::AllocSiteOut]| {
            s.iter()
                .find(|s| !s.location.starts_with("node:") && !s.location.starts_with('('))
                .map(|s| md_escape(&s.location))
                .unwrap_or_default()
        };
        let _ = writeln!(
            o,
            "| main thread | {} | {} |",
            verdict(p.verdict, p.leak_kind, p.retained_bytes_per_request),
            site(&p.alloc_survivors)
        );
        for t in &p.threads {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_escape(&name(t)),
                verdict(t.verdict, t.leak_kind, t.retained_bytes_per_request),
                site(&t.alloc_survivors)
            );
        }
        let _ = writeln!(o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_schema::AllocSiteOut;

    #[test]
    fn summary_has_verdict_table_and_escaped_text() {
        let r = RunReport {
            verdict: Verdict::Leak,
            leak_kind: LeakKind::JsHeap,
            retained_bytes_per_request: 2048.0,
            retained_bytes_per_request_ci: Some([1900.0, 2200.0]),
            requests: 5000,
            duration_s: 12.0,
            projection: Some("at 300 req/s a 2 GB heap fills in about 5.5 hours".into()),
            evidence: vec!["grew | by *lots* <img src=x>".into()],
            alloc_survivors: vec![AllocSiteOut {
                function: "handler".into(),
                location: "server.js:12".into(),
                bytes: 4096,
                share: 0.5,
                ..Default::default()
            }],
            ..Default::default()
        };
        let m = render(&r);
        assert!(m.starts_with("## 🔴 leakhound: **leak** (js-heap)"), "{m}");
        assert!(m.contains("| Retained per request | 2.0 KiB (95% CI 1.9 KiB .. 2.1 KiB) |"));
        assert!(m.contains("grew \\| by \\*lots\\* &lt;img src=x&gt;"));
        assert!(m.contains("| handler | server.js:12 | 4.0 KiB | 50.0% |"));
        assert!(!m.contains("| Fit |"), "no decided fit, no row");
        assert!(m.contains("5.5 hours"));
    }

    #[test]
    fn the_flame_graph_is_told_as_allocation_paths_after_the_sites() {
        use crate::run_schema::{AllocTree, AllocTreeNode, AllocTrees};
        use leakhound_schema::alloc::FrameKind;
        let frame = |f: &str, own: u64, children: Vec<u32>| AllocTreeNode {
            function: f.into(),
            location: "server.js:7".into(),
            kind: FrameKind::User,
            self_bytes: own,
            total_bytes: 4096,
            children,
            cut_bytes: 0,
        };
        let r = RunReport {
            alloc_all: vec![AllocSiteOut {
                function: "remember".into(),
                location: "server.js:7".into(),
                bytes: 4096,
                share: 1.0,
                ..Default::default()
            }],
            alloc_trees: Some(AllocTrees {
                all: Some(AllocTree {
                    total_bytes: 4096,
                    floor_bytes: 1,
                    nodes: vec![frame("(root)", 0, vec![1]), frame("remember", 4096, vec![])],
                }),
                survivors: None,
            }),
            ..Default::default()
        };
        let m = render(&r);
        let paths = m
            .find("**Allocation paths: All allocations** (4.0 KiB sampled")
            .unwrap();
        assert!(m.find("Top allocation sites").unwrap() < paths, "{m}");
        assert!(
            m.contains("| 4.0 KiB | 100.0% | **remember** server.js:7 |"),
            "{m}"
        );
        assert!(!m.contains("What survives"), "{m}");
    }

    #[test]
    fn the_decided_fit_is_named_with_its_series() {
        let r = RunReport {
            verdict: Verdict::Leak,
            leak_kind: LeakKind::External,
            retained_bytes_per_request: 3072.0,
            samples: vec![Default::default(); 8],
            fit: Some(crate::run_schema::FitOut {
                series: crate::run_schema::SeriesName::External,
                x: crate::run_schema::FitAxis::Requests,
                slope: 3072.0,
                intercept: 0.0,
                ci_low: 2048.0,
                ci_high: 4096.0,
                r_squared: 0.9,
                samples_used: vec![2, 3, 4, 5, 6, 7],
            }),
            ..Default::default()
        };
        let m = render(&r);
        assert!(
            m.contains("| Fit | external memory against requests: 3.0 KiB per request (95% CI 2.0 KiB .. 4.0 KiB), R² 0.900, 6 samples |"),
            "{m}"
        );
    }

    #[test]
    fn an_interrupted_run_says_why_and_keeps_its_figures() {
        let r = RunReport {
            verdict: Verdict::Interrupted,
            reason: Some("stopped by Ctrl-C after 4 rounds".into()),
            warnings: vec!["3 of 900 responses were 500".into()],
            retained_bytes_per_request: 1100.0,
            ..Default::default()
        };
        let m = render(&r);
        assert!(m.starts_with("## 🟡 leakhound: **interrupted**\n"), "{m}");
        assert!(m.contains("| Retained per request | 1.1 KiB |"), "{m}");
        assert!(
            m.contains("**Why:** stopped by Ctrl-C after 4 rounds\n"),
            "{m}"
        );
        assert!(
            m.contains("**Warnings**\n\n- 3 of 900 responses were 500\n"),
            "{m}"
        );
    }

    #[test]
    fn each_isolate_has_a_row_with_its_verdict_and_site() {
        let mut md = String::new();
        isolates(&crate::threads::tests::report(), &mut md);
        assert!(
            md.contains("| worker thread \\[worker 1\\] (lib/&lt;w&gt;.js) | LEAK (js-heap), 600 B/request | lib/&lt;w&gt;.js:6 |"),
            "{md}"
        );
        let mut none = String::new();
        isolates(&RunReport::default(), &mut none);
        assert!(none.is_empty());
    }
}
