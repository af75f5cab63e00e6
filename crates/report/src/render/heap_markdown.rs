//! `heap summary|diff|leaks --markdown`: the same findings as the terminal text, as a short
//! Markdown summary (a CI step summary, a PR comment), the inspections included. Class
//! names, paths, string values and event names come from the snapshot: escaped.

use std::fmt::Write as _;
use std::io;

use leakhound_heap::{DiffReport, LeaksReport, Summary};

use super::heap::Top;
use super::heap_inspect;
use super::{Markdown, Render};
use crate::escape::markdown as md;
use crate::format::bytes_u64 as bytes;

impl Render<Summary> for Markdown {
    fn render(&self, s: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "## leakhound heap summary\n\n{} in {} objects, {} edges, {} classes.\n",
            bytes(s.total_bytes),
            s.node_count,
            s.edge_count,
            s.class_count
        );
        o.push_str("### Leak suspects\n\n");
        if s.suspects.is_empty() {
            o.push_str("None: no object or class retains 10% of the heap.\n\n");
        } else {
            for sp in &s.suspects {
                let _ = writeln!(o, "1. {}", md(&sp.sentence));
            }
            o.push('\n');
        }
        o.push_str(
            "### Top classes by retained size\n\n| class | retained | self | count |\n\
             |---|---:|---:|---:|\n",
        );
        for r in &s.top_by_retained {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md(&r.class),
                bytes(r.retained_bytes),
                bytes(r.self_bytes),
                r.count
            );
        }
        o.push('\n');
        heap_inspect::markdown(&mut o, s);
        out.write_all(o.as_bytes())
    }
}

impl Render<Top<'_, DiffReport>> for Markdown {
    fn render(&self, t: &Top<'_, DiffReport>, out: &mut dyn io::Write) -> io::Result<()> {
        let d = t.doc;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "## leakhound heap diff\n\nHeap {} → {} ({}).\n\n\
             | class | new | new size | deleted | deleted size | delta |\n\
             |---|---:|---:|---:|---:|---:|",
            bytes(d.total_before),
            bytes(d.total_after),
            crate::format::bytes_signed(d.total_after as f64 - d.total_before as f64)
        );
        for c in d.classes.iter().take(t.top) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&c.class),
                c.new_count,
                bytes(c.new_bytes),
                c.deleted_count,
                bytes(c.deleted_bytes),
                crate::format::bytes_signed(c.bytes_delta as f64)
            );
        }
        o.push('\n');
        heap_inspect::collections_markdown(&mut o, &d.grown_collections);
        out.write_all(o.as_bytes())
    }
}

impl Render<Top<'_, LeaksReport>> for Markdown {
    fn render(&self, t: &Top<'_, LeaksReport>, out: &mut dyn io::Write) -> io::Result<()> {
        let r = t.doc;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "## {} leakhound heap leaks: **{}**\n\nHeap {} → {} → {}; {} objects from between \
             snapshots 1 and 2 still alive ({}).\n",
            if r.significant { "🔴" } else { "🟢" },
            if r.significant { "leak" } else { "no leak" },
            bytes(r.totals[0]),
            bytes(r.totals[1]),
            bytes(r.totals[2]),
            r.leaked_objects,
            bytes(r.leaked_retained_bytes)
        );
        if !r.significant {
            o.push_str("No significant leak: no group of new objects survived in bulk.\n\n");
        }
        for g in r.groups.iter().take(t.top) {
            let _ = writeln!(
                o,
                "- {}{}",
                if g.significant { "**LEAK** " } else { "" },
                md(&g.sentence)
            );
            if !g.app_path.is_empty() {
                let _ = writeln!(o, "  - path: {}", md(&g.app_path.join(" > ")));
            }
        }
        if !r.groups.is_empty() {
            o.push('\n');
        }
        heap_inspect::collections_markdown(&mut o, &r.grown_collections);
        out.write_all(o.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_string;
    use leakhound_schema::heap::*;

    fn grown() -> CollectionGrowth {
        CollectionGrowth {
            kind: CollectionKind::Map,
            class: "Map".into(),
            node_id: 41,
            entries: vec![10, 260, 510],
            retained_bytes: vec![1000, 25_000, 50_000],
            entries_growth: 500,
            bytes_growth: 49_000,
            holder: Some("responseCache".into()),
            path: "(GC roots) > responseCache (Map)".into(),
            app_path: vec![],
        }
    }

    #[test]
    fn summary_markdown_has_the_inspections_escaped() {
        let s = HeapSummary {
            schema: SUMMARY_SCHEMA.into(),
            total_bytes: 4 << 20,
            node_count: 9,
            edge_count: 8,
            class_count: 2,
            top_by_retained: vec![ClassRow {
                class: "Bus|<b>".into(),
                count: 3,
                self_bytes: 96,
                retained_bytes: 2048,
            }],
            top_by_self: vec![],
            suspects: vec![],
            duplicated_strings: Some(DuplicatedStrings {
                wasted_bytes: 2048,
                values: 1,
                extra_copies: 2,
                top: vec![DuplicatedString {
                    value: "*bold* | `x`\n".into(),
                    truncated: true,
                    count: 3,
                    bytes_each: 1024,
                    wasted_bytes: 2048,
                }],
            }),
            listeners: vec![EmitterListeners {
                emitter: "Bus".into(),
                node_id: 7,
                event: "config:reload".into(),
                listeners: 12,
                path: "bus > _events".into(),
            }],
        };
        let m = to_string(&Markdown, &s);
        assert!(
            m.starts_with("## leakhound heap summary\n\n4.0 MiB in 9 objects"),
            "{m}"
        );
        assert!(
            m.contains("| Bus\\|&lt;b&gt; | 2.0 KiB | 96 B | 3 |"),
            "{m}"
        );
        assert!(
            m.contains("### Duplicated strings\n\n2.0 KiB wasted by 2 extra copies of 1 values"),
            "{m}"
        );
        // Quoted, newline escaped, Markdown made inert: one table row.
        assert!(
            m.contains(r#"| "\*bold\* \| \`x\`\\n"… | 3 | 1.0 KiB | 2.0 KiB |"#),
            "{m}"
        );
        assert!(
            m.contains("| Bus @7 | \"config:reload\" | 12 | bus &gt; \\_events |"),
            "{m}"
        );
        assert!(m.contains("None: no object or class retains 10%"), "{m}");
    }

    #[test]
    fn diff_markdown_lists_classes_to_top_and_the_collections_that_grew() {
        let d = DiffReport {
            schema: DIFF_SCHEMA.into(),
            total_before: 1000,
            total_after: 3048,
            classes: (0..3)
                .map(|i| ClassDiff {
                    class: format!("C{i}"),
                    new_count: 1,
                    new_bytes: 2048,
                    bytes_delta: 2048,
                    ..Default::default()
                })
                .collect(),
            grown_collections: vec![grown()],
        };
        let m = to_string(&Markdown, &Top { doc: &d, top: 2 });
        assert!(m.contains("Heap 1000 B → 3.0 KiB (+2.0 KiB)."), "{m}");
        assert!(
            m.contains("| C1 | 1 | 2.0 KiB | 0 | 0 B | +2.0 KiB |"),
            "{m}"
        );
        assert!(!m.contains("| C2 |"), "{m}");
        assert!(m.contains("### Collections that grew"), "{m}");
        assert!(
            m.contains(
                "| Map @41 (Map) | \"responseCache\" | 10 → 260 → 510 (+500) | +47.9 KiB | \
                 (GC roots) &gt; responseCache (Map) |"
            ),
            "{m}"
        );
    }

    #[test]
    fn leaks_markdown_marks_the_verdict_groups_and_collections() {
        let mut c = grown();
        c.app_path = vec!["handler (Function)".into(), "responseCache (Map)".into()];
        let r = LeaksReport {
            schema: LEAKS_SCHEMA.into(),
            totals: [1 << 20, 2 << 20, 3 << 20],
            leaked_objects: 2500,
            leaked_retained_bytes: 1536 << 10,
            significant: true,
            groups: vec![],
            grown_collections: vec![c],
        };
        let m = to_string(&Markdown, &Top { doc: &r, top: 5 });
        assert!(m.starts_with("## 🔴 leakhound heap leaks: **leak**"), "{m}");
        assert!(m.contains("2500 objects from between snapshots 1 and 2 still alive (1.5 MiB)"));
        assert!(
            m.contains("| handler (Function) &gt; responseCache (Map) |"),
            "{m}"
        );
        let quiet = LeaksReport {
            significant: false,
            grown_collections: vec![],
            ..r
        };
        let m = to_string(
            &Markdown,
            &Top {
                doc: &quiet,
                top: 5,
            },
        );
        assert!(
            m.contains("**no leak**") && m.contains("No significant leak"),
            "{m}"
        );
        assert!(!m.contains("Collections that grew"), "{m}");
    }
}
