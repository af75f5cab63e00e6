//! `leakhound fleet`'s result (`leakhound.fleet/v1`): a ranked table of instances, as text,
//! JSON or Markdown.

use std::io;

use leakhound_schema::fleet::{FleetInstance, FleetReport};
use leakhound_schema::Verdict;

use super::{write_json, Json, Markdown, Render, Text};
use crate::format;

/// One table row's cells, shared by the text and Markdown tables.
fn cells(i: &FleetInstance) -> [String; 7] {
    let floor = match (i.floor_start_bytes, i.floor_end_bytes) {
        (Some(a), Some(b)) => format!("{} → {}", format::bytes(a), format::bytes(b)),
        _ => "–".into(),
    };
    let rate = match (i.bytes_per_hour, i.ci_low, i.ci_high) {
        (Some(r), Some(lo), Some(hi)) => {
            format!("{:.1} [{:.1}, {:.1}]", r / MIB, lo / MIB, hi / MIB)
        }
        (Some(r), _, _) => format!("{:.1}", r / MIB),
        _ => "–".into(),
    };
    [
        i.instance.clone(),
        i.job.clone(),
        i.segments.to_string(),
        floor,
        rate,
        i.time_to_oom_s.map_or("–".into(), format::duration),
        verdict_word(i.verdict).to_string(),
    ]
}

const MIB: f64 = 1024.0 * 1024.0;
const HEADERS: [&str; 7] = [
    "instance",
    "job",
    "segments",
    "floor start → end",
    "MiB/hour [95% CI]",
    "time to OOM",
    "verdict",
];

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Leak => "LEAK",
        Verdict::NoLeak => "no leak",
        Verdict::Inconclusive => "inconclusive",
        Verdict::TargetFailed => "target failed",
        Verdict::Interrupted => "interrupted",
    }
}

fn headline(r: &FleetReport) -> String {
    let leaks = r
        .instances
        .iter()
        .filter(|i| i.verdict == Verdict::Leak)
        .count();
    format!(
        "{} of {} instance{} leak{} ({} over {}, step {}, {} quer{} to Prometheus)",
        leaks,
        r.instances.len(),
        if r.instances.len() == 1 { "" } else { "s" },
        if leaks == 1 { "s" } else { "" },
        r.metric,
        format::duration(r.window_s),
        format::duration(r.step_s),
        r.queries,
        if r.queries == 1 { "y" } else { "ies" }
    )
}

impl Render<FleetReport> for Text {
    fn render(&self, r: &FleetReport, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "{}\n", headline(r))?;
        let rows: Vec<[String; 7]> = r.instances.iter().map(cells).collect();
        let mut widths = HEADERS.map(|h| h.chars().count());
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cols: &[String]| {
            let mut s = String::new();
            for (k, (c, w)) in cols.iter().zip(widths).enumerate() {
                let pad = w - c.chars().count();
                // Numbers right-aligned, names left-aligned.
                if matches!(k, 2 | 4 | 5) {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                }
                s.push_str("  ");
            }
            s.trim_end().to_string()
        };
        writeln!(out, "{}", line(&HEADERS.map(String::from)))?;
        for row in &rows {
            writeln!(out, "{}", line(row))?;
        }
        for j in &r.jobs {
            writeln!(
                out,
                "\njob {}: all {} instances leak at about {}",
                j.job,
                j.instances,
                format::bytes_per(j.bytes_per_hour, "hour")
            )?;
        }
        let flagged: Vec<&FleetInstance> = r
            .instances
            .iter()
            .filter(|i| i.verdict != Verdict::NoLeak)
            .collect();
        if !flagged.is_empty() {
            writeln!(out)?;
        }
        for i in flagged {
            writeln!(out, "{} ({}):", i.instance, verdict_word(i.verdict))?;
            for e in &i.evidence {
                writeln!(out, "  - {e}")?;
            }
        }
        Ok(())
    }
}

impl Render<FleetReport> for Json {
    fn render(&self, r: &FleetReport, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(r, out)
    }
}

use crate::escape::table_pipes as md_escape;

impl Render<FleetReport> for Markdown {
    fn render(&self, r: &FleetReport, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "## leakhound fleet: {}\n", md_escape(&headline(r)))?;
        writeln!(out, "| {} |", HEADERS.join(" | "))?;
        writeln!(out, "|---|---|--:|---|--:|--:|---|")?;
        for i in &r.instances {
            let c = cells(i).map(|c| md_escape(&c));
            let verdict = if i.verdict == Verdict::Leak {
                format!("**{}**", c[6])
            } else {
                c[6].clone()
            };
            writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} |",
                c[0], c[1], c[2], c[3], c[4], c[5], verdict
            )?;
        }
        for j in &r.jobs {
            writeln!(
                out,
                "\nJob **{}**: all {} instances leak at about {}.",
                md_escape(&j.job),
                j.instances,
                format::bytes_per(j.bytes_per_hour, "hour")
            )?;
        }
        for i in r.instances.iter().filter(|i| i.verdict == Verdict::Leak) {
            writeln!(out, "\n**`{}`**", md_escape(&i.instance))?;
            for e in &i.evidence {
                writeln!(out, "- {}", md_escape(e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_string;
    use leakhound_schema::fleet::FleetJob;

    fn report() -> FleetReport {
        FleetReport {
            schema: leakhound_schema::fleet::SCHEMA.into(),
            metric: "nodejs_heap_size_used_bytes".into(),
            window_s: 7200.0,
            step_s: 30.0,
            queries: 2,
            verdict: Verdict::Leak,
            instances: vec![
                FleetInstance {
                    instance: "10.0.0.1:9100".into(),
                    job: "api".into(),
                    verdict: Verdict::Leak,
                    segments: 1,
                    floor_start_bytes: Some(100.0 * MIB),
                    floor_end_bytes: Some(150.0 * MIB),
                    bytes_per_hour: Some(25.0 * MIB),
                    ci_low: Some(24.0 * MIB),
                    ci_high: Some(26.5 * MIB),
                    time_to_oom_s: Some(5400.0),
                    evidence: vec!["post-GC floor rose".into()],
                    ..Default::default()
                },
                FleetInstance {
                    instance: "10.0.0.2:9100".into(),
                    job: "web|x".into(),
                    verdict: Verdict::NoLeak,
                    segments: 2,
                    ..Default::default()
                },
            ],
            jobs: vec![FleetJob {
                job: "api".into(),
                instances: 2,
                bytes_per_hour: 25.0 * MIB,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn text_is_a_ranked_table_with_evidence() {
        let t = to_string(&Text, &report());
        assert!(
            t.starts_with("1 of 2 instances leaks (nodejs_heap_size_used_bytes over 2.0 hours"),
            "{t}"
        );
        let row = t.lines().find(|l| l.starts_with("10.0.0.1:9100")).unwrap();
        for want in [
            "100 MiB → 150 MiB",
            "25.0 [24.0, 26.5]",
            "1.5 hours",
            "LEAK",
        ] {
            assert!(row.contains(want), "{want} in {row}");
        }
        assert!(
            t.contains("job api: all 2 instances leak at about 25.0 MiB/hour"),
            "{t}"
        );
        assert!(t.contains("  - post-GC floor rose"), "{t}");
        // The header and the rows line up: "verdict" starts where "LEAK" does.
        let head = t.lines().find(|l| l.starts_with("instance")).unwrap();
        assert_eq!(head.find("verdict"), row.find("LEAK"));
    }

    #[test]
    fn json_round_trips_and_markdown_escapes() {
        let r = report();
        let back: FleetReport = serde_json::from_str(&to_string(&Json, &r)).unwrap();
        assert_eq!(back, r);
        let md = to_string(&Markdown, &r);
        assert!(md.contains("| `10.0.0.1:9100` | api | 1 |"), "{md}");
        assert!(md.contains("web\\|x"), "{md}");
        assert!(md.contains("**LEAK**"), "{md}");
    }
}
