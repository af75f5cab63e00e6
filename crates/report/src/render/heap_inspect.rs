//! The heap inspections (duplicated strings, listeners per emitter, collections that grew)
//! as sections of the `heap summary --report` page and of the `--markdown` summaries of
//! `heap summary|diff|leaks`. String values and event names are program data: escaped, and
//! already cut to about 80 characters by the producer.

use std::fmt::Write as _;

use leakhound_heap::Summary;
use leakhound_schema::heap::CollectionGrowth;

use crate::escape::html as esc;
use crate::escape::markdown as md;
use crate::format::bytes_u64 as bytes;

/// Program text for a Markdown cell: quoted with control characters escaped (`{:?}`, as the
/// terminal text does), then made inert (no emphasis, links or table breaks).
fn md_quoted(s: &str, cut: bool) -> String {
    md(&format!("{s:?}{}", if cut { "…" } else { "" }))
}

/// Duplicated strings and listeners per emitter as Markdown sections (nothing when the
/// summary has neither).
pub(crate) fn markdown(o: &mut String, s: &Summary) {
    if let Some(d) = &s.duplicated_strings {
        let _ = writeln!(
            o,
            "### Duplicated strings\n\n{} wasted by {} extra copies of {} values: one copy of \
             each would be enough.\n",
            bytes(d.wasted_bytes),
            d.extra_copies,
            d.values
        );
        if !d.top.is_empty() {
            o.push_str("| value | copies | each | wasted |\n|---|---:|---:|---:|\n");
            for r in &d.top {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    md_quoted(&r.value, r.truncated),
                    r.count,
                    bytes(r.bytes_each),
                    bytes(r.wasted_bytes)
                );
            }
            o.push('\n');
        }
    }
    if !s.listeners.is_empty() {
        o.push_str(
            "### Listeners per emitter\n\n| emitter | event | listeners | path |\n\
             |---|---|---:|---|\n",
        );
        for l in &s.listeners {
            let _ = writeln!(
                o,
                "| {} @{} | {} | {} | {} |",
                md(&l.emitter),
                l.node_id,
                md_quoted(&l.event, false),
                l.listeners,
                md(&l.path)
            );
        }
        o.push('\n');
    }
}

/// The collections that grew (`heap diff`, `heap leaks`) as a Markdown section.
pub(crate) fn collections_markdown(o: &mut String, rows: &[CollectionGrowth]) {
    if rows.is_empty() {
        return;
    }
    o.push_str(
        "### Collections that grew\n\nThe same object in every snapshot, with more entries \
         in each.\n\n| collection | held as | entries | retained | path |\n\
         |---|---|---|---:|---|\n",
    );
    for c in rows {
        let entries: Vec<String> = c.entries.iter().map(|e| e.to_string()).collect();
        let path = if c.app_path.is_empty() {
            c.path.clone()
        } else {
            c.app_path.join(" > ")
        };
        let _ = writeln!(
            o,
            "| {} @{} ({}) | {} | {} (+{}) | {} | {} |",
            md(&c.class),
            c.node_id,
            c.kind.as_str(),
            c.holder
                .as_deref()
                .map(|h| md_quoted(h, false))
                .unwrap_or_default(),
            entries.join(" → "),
            c.entries_growth,
            crate::format::bytes_signed(c.bytes_growth as f64),
            md(&path)
        );
    }
    o.push('\n');
}

/// Append the inspection sections of `s` to the page `o`.
pub(crate) fn html(o: &mut String, s: &Summary) {
    if let Some(d) = &s.duplicated_strings {
        o.push_str(&format!(
            "<h2>Duplicated strings</h2><p class=\"note\" id=\"dup-strings\">{} wasted by {} extra \
             copies of {} values: one copy of each would be enough.</p>",
            bytes(d.wasted_bytes),
            d.extra_copies,
            d.values
        ));
        if !d.top.is_empty() {
            o.push_str(
                "<table><tr><th>value</th><th class=\"num\">copies</th>\
                 <th class=\"num\">each</th><th class=\"num\">wasted</th></tr>",
            );
            for r in &d.top {
                o.push_str(&format!(
                    "<tr><td><code>{}</code>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    esc(&r.value),
                    if r.truncated { "…" } else { "" },
                    r.count,
                    bytes(r.bytes_each),
                    bytes(r.wasted_bytes)
                ));
            }
            o.push_str("</table>");
        }
    }
    if !s.listeners.is_empty() {
        o.push_str(
            "<h2>Listeners per emitter</h2><table id=\"listeners\"><tr><th>emitter</th>\
             <th>event</th><th class=\"num\">listeners</th><th>path</th></tr>",
        );
        for l in &s.listeners {
            o.push_str(&format!(
                "<tr><td>{} <a href=\"#expand={}\">@{}</a></td><td><code>{}</code></td>\
                 <td class=\"num\">{}</td><td class=\"muted\">{}</td></tr>",
                esc(&l.emitter),
                l.node_id,
                l.node_id,
                esc(&l.event),
                l.listeners,
                esc(&l.path)
            ));
        }
        o.push_str("</table>");
    }
}

#[cfg(test)]
mod tests {
    use leakhound_schema::heap::*;

    #[test]
    fn values_and_event_names_are_escaped() {
        let evil = "<img src=x onerror=alert(1)>";
        let s = HeapSummary {
            schema: SUMMARY_SCHEMA.into(),
            total_bytes: 1,
            node_count: 1,
            edge_count: 0,
            class_count: 0,
            top_by_retained: vec![],
            top_by_self: vec![],
            suspects: vec![],
            duplicated_strings: Some(DuplicatedStrings {
                wasted_bytes: 10,
                values: 1,
                extra_copies: 1,
                top: vec![DuplicatedString {
                    value: evil.into(),
                    truncated: false,
                    count: 2,
                    bytes_each: 10,
                    wasted_bytes: 10,
                }],
            }),
            listeners: vec![EmitterListeners {
                emitter: "Bus".into(),
                node_id: 3,
                event: evil.into(),
                listeners: 9,
                path: evil.into(),
            }],
        };
        let mut o = String::new();
        super::html(&mut o, &s);
        assert!(!o.contains("<img"), "{o}");
        assert_eq!(o.matches("&lt;img src=x").count(), 3, "{o}");
        assert!(o.contains("<td class=\"num\">9</td>"), "{o}");
    }
}
