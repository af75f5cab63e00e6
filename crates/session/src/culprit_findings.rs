//! What the culprit hunt found, as the report and the terminal show it: suspects from the
//! three-snapshot comparison, and the allocation-sites and culprit sections of the text output.
//! (The capture itself is [`crate::culprit`].)

use leakhound_heap::fmt_bytes as human_bytes;
use leakhound_heap::LeaksReport;
use leakhound_report::run_schema::{AllocSiteOut, RunReport, SuspectOut};

/// V8's default sampling interval: about one sample per 32 KiB allocated. Cheap enough to
/// leave on: at the seed's allocation rate (tens of MB/s) that is a few thousand samples a
/// second.
pub const DEFAULT_SAMPLING_INTERVAL: u64 = 32 * 1024;

/// Suspects kept in the JSON.
pub const TOP_SUSPECTS: usize = 5;

/// The significant groups of the three-snapshot comparison, as the report shows suspects.
pub fn suspects(l: &LeaksReport) -> Vec<SuspectOut> {
    significant(l)
        .map(|g| SuspectOut {
            title: format!(
                "{} {} objects allocated during the load rounds still alive after idle{}",
                g.instances,
                g.class,
                g.holder
                    .as_ref()
                    .map(|h| format!(", held by {h}"))
                    .unwrap_or_default()
            ),
            bytes: g.retained_bytes,
            percent: g.percent_of_heap,
            path: g.path.split(" > ").map(str::to_string).collect(),
            source: Vec::new(),
        })
        .collect()
}

pub(crate) fn significant(
    l: &LeaksReport,
) -> impl Iterator<Item = &leakhound_heap::leaks::LeakGroup> {
    l.groups.iter().filter(|g| g.significant).take(TOP_SUSPECTS)
}

/// The terminal's allocation-sites and culprit sections (empty when nothing was captured).
pub fn render(r: &RunReport) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let row = |o: &mut String, s: &AllocSiteOut| {
        let _ = writeln!(
            o,
            "    {:>10} {:>5.1}%  {}  {}",
            human_bytes(s.bytes),
            s.share * 100.0,
            s.function,
            s.location
        );
    };
    if !r.alloc_all.is_empty() || !r.alloc_survivors.is_empty() {
        let _ = writeln!(
            o,
            "allocation sites (sampling heap profiler, one sample per {} allocated; bytes charged to the nearest application frame):",
            human_bytes(r.alloc_sampling_interval.unwrap_or(DEFAULT_SAMPLING_INTERVAL))
        );
        if !r.alloc_all.is_empty() {
            o.push_str("  all allocations during warm-up, collected garbage included:\n");
            r.alloc_all.iter().take(5).for_each(|s| row(&mut o, s));
        }
        if !r.alloc_survivors.is_empty() {
            o.push_str(
                "  allocated during the load rounds and still alive after idle and a full GC:\n",
            );
            r.alloc_survivors
                .iter()
                .take(5)
                .for_each(|s| row(&mut o, s));
        }
        if !r.alloc_profiles.is_empty() {
            let _ = writeln!(
                o,
                "  profiles (Chrome DevTools > Memory > Load): {}",
                r.alloc_profiles.join(", ")
            );
        }
    }
    if !r.snapshots.is_empty() {
        if r.suspects.is_empty() {
            if r.snapshots.len() == 3 {
                o.push_str("culprit: the heap snapshots show no significant group of objects allocated during load and still alive\n");
            }
        } else {
            o.push_str(
                "culprit (heap snapshots: allocated between snapshots 1 and 2, alive in 3):\n",
            );
            for s in &r.suspects {
                let _ = writeln!(
                    o,
                    "  {}: retaining {} ({:.1}% of the heap)",
                    s.title,
                    human_bytes(s.bytes),
                    s.percent
                );
                let _ = writeln!(o, "    path: {}", s.path.join(" > "));
                for l in &s.source {
                    let _ = writeln!(o, "    {:<8}  {}  {}", l.kind, l.location, l.code);
                }
            }
        }
        let _ = writeln!(o, "  snapshots: {}", r.snapshots.join(", "));
    }
    for n in &r.culprit_notes {
        let _ = writeln!(o, "  note: {n}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_report::run_schema::SuspectOut;

    fn group(
        class: &str,
        significant: bool,
        holder: Option<&str>,
    ) -> leakhound_heap::leaks::LeakGroup {
        leakhound_heap::leaks::LeakGroup {
            class: class.into(),
            instances: 2500,
            retained_bytes: 3 << 20,
            self_bytes: 1 << 20,
            percent_of_heap: 31.5,
            holder: holder.map(str::to_string),
            path: "(GC roots) > global > responseCache (Map) > table > (object elements)".into(),
            path_steps: vec![],
            example_node_id: 7,
            population: [0, 2500],
            significant,
            sentence: String::new(),
        }
    }

    #[test]
    fn only_significant_groups_become_suspects_with_their_path() {
        let l = LeaksReport {
            schema: "leakhound.heap.leaks/v1",
            totals: [1, 2, 3],
            leaked_objects: 5000,
            leaked_retained_bytes: 6 << 20,
            significant: true,
            groups: vec![
                group("Object", true, Some("responseCache (Map)")),
                group("Noise", false, None),
                group("(concatenated string)", true, None),
            ],
        };
        let s = suspects(&l);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].title,
            "2500 Object objects allocated during the load rounds still alive after idle, held by responseCache (Map)"
        );
        assert_eq!(s[0].bytes, 3 << 20);
        assert_eq!(s[0].percent, 31.5);
        assert_eq!(
            s[0].path,
            [
                "(GC roots)",
                "global",
                "responseCache (Map)",
                "table",
                "(object elements)"
            ]
        );
        assert!(!s[1].title.contains("held by"));
    }

    #[test]
    fn render_names_sites_and_the_culprit_path() {
        let r = RunReport {
            alloc_all: vec![AllocSiteOut {
                function: "getItemAssets".into(),
                location: "examples/leaky-server.js:14".into(),
                bytes: 3 << 20,
                share: 0.6,
            }],
            alloc_survivors: vec![AllocSiteOut {
                function: "processData".into(),
                location: "examples/leaky-server.js:30".into(),
                bytes: 2048,
                share: 0.5,
            }],
            alloc_sampling_interval: Some(32768),
            snapshots: vec!["d/s1".into(), "d/s2".into(), "d/s3".into()],
            suspects: vec![SuspectOut {
                title: "2500 Object objects ..., held by responseCache (Map)".into(),
                bytes: 1 << 20,
                percent: 12.5,
                path: vec![
                    "(GC roots)".into(),
                    "responseCache (Map)".into(),
                    "table".into(),
                ],
                source: vec![leakhound_report::run_schema::SourceLine {
                    kind: "grows".into(),
                    location: "server.js:48".into(),
                    code: "responseCache.set(k, v);".into(),
                }],
            }],
            ..Default::default()
        };
        let t = render(&r);
        assert!(t.contains("one sample per 32.0 KiB"), "{t}");
        assert!(
            t.contains("3.0 MiB  60.0%  getItemAssets  examples/leaky-server.js:14"),
            "{t}"
        );
        assert!(
            t.contains("processData  examples/leaky-server.js:30"),
            "{t}"
        );
        assert!(
            t.contains("grows     server.js:48  responseCache.set(k, v);"),
            "{t}"
        );
        assert!(
            t.contains("path: (GC roots) > responseCache (Map) > table"),
            "{t}"
        );
        assert!(t.contains("held by responseCache (Map): retaining 1.0 MiB (12.5% of the heap)"));
        assert_eq!(render(&RunReport::default()), "");
        let none = RunReport {
            snapshots: vec!["a".into(), "b".into(), "c".into()],
            ..Default::default()
        };
        assert!(render(&none).contains("no significant group"));
    }
}
