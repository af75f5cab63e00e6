//! `leakhound heap summary|diff|leaks`: text, or their `leakhound.heap.*/v1` JSON.

use std::io;

use leakhound_heap::{DiffReport, LeaksReport, Summary};

use super::{write_json, Json, Render, Text};
use crate::format::bytes_u64 as bytes;

/// A heap document with how many rows of its table to show.
#[derive(Debug, Clone, Copy)]
pub struct Top<'a, D> {
    pub doc: &'a D,
    pub top: usize,
}

/// The summary's tables are already cut to `--top` when it is computed.
impl Render<Summary> for Text {
    fn render(&self, s: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(
            out,
            "heap: {} in {} objects, {} edges, {} classes",
            bytes(s.total_bytes),
            s.node_count,
            s.edge_count,
            s.class_count
        )?;
        writeln!(out, "\ntop classes by retained size:")?;
        writeln!(
            out,
            "{:>12} {:>12} {:>10}  class",
            "retained", "self", "count"
        )?;
        for r in &s.top_by_retained {
            writeln!(
                out,
                "{:>12} {:>12} {:>10}  {}",
                bytes(r.retained_bytes),
                bytes(r.self_bytes),
                r.count,
                r.class
            )?;
        }
        writeln!(out, "\ntop classes by self size:")?;
        writeln!(
            out,
            "{:>12} {:>12} {:>10}  class",
            "self", "retained", "count"
        )?;
        for r in &s.top_by_self {
            writeln!(
                out,
                "{:>12} {:>12} {:>10}  {}",
                bytes(r.self_bytes),
                bytes(r.retained_bytes),
                r.count,
                r.class
            )?;
        }
        writeln!(out, "\nleak suspects:")?;
        if s.suspects.is_empty() {
            writeln!(out, "  none: no object or class retains 10% of the heap")?;
        }
        for (i, sp) in s.suspects.iter().enumerate() {
            writeln!(out, "  {}. {}", i + 1, sp.sentence)?;
        }
        inspections_text(s, out)
    }
}

/// String contents and event names are program data: printed quoted, with control
/// characters escaped (`{:?}`), so no text in a snapshot can move the terminal's cursor.
fn quoted(s: &str, cut: bool) -> String {
    format!("{s:?}{}", if cut { "…" } else { "" })
}

fn inspections_text(s: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
    if let Some(d) = &s.duplicated_strings {
        writeln!(
            out,
            "
duplicated strings: {} wasted by {} extra copies of {} values",
            bytes(d.wasted_bytes),
            d.extra_copies,
            d.values
        )?;
        for r in &d.top {
            writeln!(
                out,
                "{:>12} {:>8}×  {}",
                bytes(r.wasted_bytes),
                r.count,
                quoted(&r.value, r.truncated)
            )?;
        }
    }
    if !s.listeners.is_empty() {
        writeln!(
            out,
            "
listeners per emitter (most first):"
        )?;
        for l in &s.listeners {
            writeln!(
                out,
                "{:>8}  {} @{} {}",
                l.listeners,
                l.emitter,
                l.node_id,
                quoted(&l.event, false)
            )?;
        }
    }
    Ok(())
}

/// Collections that grew, for `heap diff` and `heap leaks`.
fn collections_text(
    rows: &[leakhound_schema::heap::CollectionGrowth],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "
collections that grew (same object in every snapshot):"
    )?;
    for c in rows {
        let entries: Vec<String> = c.entries.iter().map(|e| e.to_string()).collect();
        let held = c
            .holder
            .as_deref()
            .map(|h| format!(" held as {}", quoted(h, false)))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} @{} ({}){held}: entries {} (+{}), retained {:+} bytes",
            c.class,
            c.node_id,
            c.kind.as_str(),
            entries.join(" -> "),
            c.entries_growth,
            c.bytes_growth
        )?;
        if c.app_path.is_empty() {
            writeln!(out, "      path: {}", c.path)?;
        } else {
            writeln!(out, "      path: {}", c.app_path.join(" > "))?;
        }
    }
    Ok(())
}

impl Render<Top<'_, DiffReport>> for Text {
    fn render(&self, t: &Top<'_, DiffReport>, out: &mut dyn io::Write) -> io::Result<()> {
        let d = t.doc;
        writeln!(
            out,
            "heap {} -> {} ({:+} bytes)",
            bytes(d.total_before),
            bytes(d.total_after),
            d.total_after as i64 - d.total_before as i64
        )?;
        writeln!(
            out,
            "{:>9} {:>11} {:>9} {:>11} {:>12}  class",
            "new", "new size", "deleted", "del size", "delta"
        )?;
        for c in d.classes.iter().take(t.top) {
            writeln!(
                out,
                "{:>9} {:>11} {:>9} {:>11} {:>12}  {}",
                c.new_count,
                bytes(c.new_bytes),
                c.deleted_count,
                bytes(c.deleted_bytes),
                c.bytes_delta,
                c.class
            )?;
        }
        collections_text(&d.grown_collections, out)
    }
}

impl Render<Top<'_, LeaksReport>> for Text {
    fn render(&self, t: &Top<'_, LeaksReport>, out: &mut dyn io::Write) -> io::Result<()> {
        let r = t.doc;
        writeln!(
            out,
            "heap {} -> {} -> {}; {} objects from between snapshots 1 and 2 still alive ({})",
            bytes(r.totals[0]),
            bytes(r.totals[1]),
            bytes(r.totals[2]),
            r.leaked_objects,
            bytes(r.leaked_retained_bytes)
        )?;
        if !r.significant {
            writeln!(
                out,
                "no significant leak: no group of new objects survived in bulk"
            )?;
        }
        for g in r.groups.iter().take(t.top) {
            writeln!(
                out,
                "{} {}",
                if g.significant { "LEAK" } else { "    " },
                g.sentence
            )?;
        }
        collections_text(&r.grown_collections, out)
    }
}

impl Render<Summary> for Json {
    fn render(&self, s: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(s, out)
    }
}

impl Render<DiffReport> for Json {
    fn render(&self, d: &DiffReport, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(d, out)
    }
}

impl Render<LeaksReport> for Json {
    fn render(&self, r: &LeaksReport, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(r, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_string;

    #[test]
    fn leaks_text_marks_significant_groups_and_honours_top() {
        let r = LeaksReport {
            schema: "leakhound.heap.leaks/v1".into(),
            totals: [1 << 20, 2 << 20, 3 << 20],
            leaked_objects: 2500,
            leaked_retained_bytes: 1536 << 10,
            significant: true,
            groups: Vec::new(),
            grown_collections: Vec::new(),
        };
        let t = to_string(&Text, &Top { doc: &r, top: 5 });
        assert_eq!(
            t,
            "heap 1.0 MiB -> 2.0 MiB -> 3.0 MiB; 2500 objects from between snapshots 1 and 2 \
             still alive (1.5 MiB)\n"
        );
    }

    #[test]
    fn inspections_print_program_text_quoted_and_escaped() {
        use leakhound_schema::heap::*;
        let s = Summary {
            schema: SUMMARY_SCHEMA.into(),
            total_bytes: 100,
            node_count: 1,
            edge_count: 0,
            class_count: 0,
            top_by_retained: vec![],
            top_by_self: vec![],
            suspects: vec![],
            duplicated_strings: Some(DuplicatedStrings {
                wasted_bytes: 2048,
                values: 1,
                extra_copies: 2,
                top: vec![DuplicatedString {
                    value: "evil\x1b[2Jline\nbreak".into(),
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
                path: String::new(),
            }],
        };
        let t = to_string(&Text, &s);
        assert!(
            t.contains("duplicated strings: 2.0 KiB wasted by 2 extra copies of 1 values"),
            "{t}"
        );
        assert!(t.contains(r#""evil\u{1b}[2Jline\nbreak"…"#), "{t}");
        assert!(!t.contains('\x1b'));
        assert!(t.contains("      12  Bus @7 \"config:reload\""), "{t}");
    }

    #[test]
    fn diff_text_lists_the_collections_that_grew() {
        use leakhound_schema::heap::{CollectionGrowth, CollectionKind};
        let d = DiffReport {
            schema: "leakhound.heap.diff/v1".into(),
            total_before: 1000,
            total_after: 3048,
            classes: vec![],
            grown_collections: vec![CollectionGrowth {
                kind: CollectionKind::Map,
                class: "Map".into(),
                node_id: 41,
                entries: vec![10, 510],
                retained_bytes: vec![1000, 50_000],
                entries_growth: 500,
                bytes_growth: 49_000,
                holder: Some("responseCache".into()),
                path: "(GC roots) > responseCache (Map)".into(),
                app_path: vec![],
            }],
        };
        let t = to_string(&Text, &Top { doc: &d, top: 2 });
        assert!(
            t.contains("  Map @41 (Map) held as \"responseCache\": entries 10 -> 510 (+500), retained +49000 bytes\n      path: (GC roots) > responseCache (Map)\n"),
            "{t}"
        );
    }

    #[test]
    fn diff_text_shows_the_top_rows_only() {
        let d = DiffReport {
            schema: "leakhound.heap.diff/v1".into(),
            total_before: 1000,
            total_after: 3048,
            classes: (0..5)
                .map(|i| leakhound_heap::diff::ClassDiff {
                    class: format!("C{i}"),
                    new_count: 1,
                    new_bytes: 2048,
                    ..Default::default()
                })
                .collect(),
            grown_collections: Vec::new(),
        };
        let t = to_string(&Text, &Top { doc: &d, top: 2 });
        assert!(
            t.starts_with("heap 1000 B -> 3.0 KiB (+2048 bytes)\n"),
            "{t}"
        );
        assert!(t.contains("  C1\n") && !t.contains("C2"), "{t}");
    }
}
