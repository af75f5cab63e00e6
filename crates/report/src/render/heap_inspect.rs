//! The heap inspections (duplicated strings, listeners per emitter) as sections of the
//! `heap summary --report` page. String values and event names are program data: escaped,
//! and already cut to about 80 characters by the producer.

use leakhound_heap::Summary;

use crate::escape::html as esc;
use crate::format::bytes_u64 as bytes;

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
