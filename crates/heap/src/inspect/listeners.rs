//! Listeners per emitter: every object with an `_events` object (Node's `EventEmitter` and
//! anything built like it), and per event name the number of listeners: one for a function,
//! the length for an array of them. An emitter gaining listeners per request is one of the
//! commonest Node leaks (and the one behind `MaxListenersExceededWarning`).
//!
//! The `_events` edges are found by one scan of the edge-name column for the name's string
//! index; only the few edges that match are followed.

use crate::analysis::{Heap, Nodes};
use crate::graph::Graph;
use crate::inspect::names::{is_oddball_in, KnownNames};
use crate::paths::{path_to, render};
use leakhound_schema::heap::EmitterListeners;

/// The `top` events with the most listeners, across all emitters, most first.
pub fn listeners(h: &Heap, names: &KnownNames, top: usize) -> Vec<EmitterListeners> {
    render_rows(h, rows(&h.tree().nodes(), names, top))
}

/// The listener rows found, before their retainer paths are drawn: they need only the
/// per-node view, so `heap summary` finds them beside the dominator pass.
#[derive(Debug, Default)]
pub struct Rows(Vec<(u64, u32, usize)>);

/// The `top` (listener count, emitter, event edge) rows, most first.
pub fn rows(h: &Nodes<'_>, names: &KnownNames, top: usize) -> Rows {
    let g = h.graph;
    let t = h.t;
    if names.events.is_empty() || top == 0 {
        return Rows::default();
    }
    let mut rows: Vec<(u64, u32, usize)> = Vec::new();
    for (e, &name) in g.edge_name.iter().enumerate() {
        crate::cancel::point(e);
        if !names.events.contains(&name) || g.edge_type[e] != t.e_property {
            continue;
        }
        let events = g.edge_to[e];
        if g.node_type[events as usize] != t.object {
            continue;
        }
        let emitter = edge_source(g, e);
        for ev in g.edges(events) {
            if g.edge_type[ev] != t.e_property || names.proto.contains(&g.edge_name[ev]) {
                continue;
            }
            let n = count(h, g.edge_to[ev]);
            if n > 0 {
                rows.push((n, emitter, ev));
            }
        }
    }
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| h.class_name(a.1).cmp(h.class_name(b.1)))
            .then(a.2.cmp(&b.2))
    });
    rows.truncate(top);
    Rows(rows)
}

/// The rows as the report shows them, each with its emitter's retainer path.
pub fn render_rows(h: &Heap, rows: Rows) -> Vec<EmitterListeners> {
    let g = &h.graph;
    rows.0
        .into_iter()
        .map(|(n, emitter, ev)| EmitterListeners {
            emitter: h.class_name(emitter).to_string(),
            node_id: u64::from(g.node_id[emitter as usize]),
            event: g.edge_label(ev, &h.t),
            listeners: n,
            path: render(&path_to(h, emitter)),
        })
        .collect()
}

/// Listeners in one `_events` slot: a function is one, an array holds them as elements, an
/// oddball (a removed event left `undefined`) none.
fn count(h: &Nodes<'_>, slot: u32) -> u64 {
    let g = h.graph;
    let t = h.t;
    let ty = g.node_type[slot as usize];
    if ty == t.closure {
        return 1;
    }
    if ty == t.object && h.class_name(slot) == "Array" {
        return g
            .edges(slot)
            .filter(|&e| g.edge_type[e] == t.e_element && !is_oddball_in(g, t, g.edge_to[e]))
            .count() as u64;
    }
    u64::from(ty == t.object)
}

/// The node whose edge range holds edge `e`.
fn edge_source(g: &Graph, e: usize) -> u32 {
    let fe = &g.first_edge;
    (fe.partition_point(|&x| x as usize <= e) - 1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testheap::heap;

    #[test]
    fn listeners_are_counted_per_event_most_first() {
        let h = heap(
            &[
                ("synthetic", "", 0),               // 0
                ("object", "Bus", 40),              // 1
                ("object", "Object", 24),           // 2 _events
                ("object", "Array", 32),            // 3 config:reload listeners
                ("closure", "onReload", 32),        // 4
                ("closure", "onReload", 32),        // 5
                ("closure", "onReload", 32),        // 6
                ("closure", "onStop", 32),          // 7
                ("hidden", "system / Oddball", 16), // 8
                ("object", "Object", 24),           // 9 prototype
                ("object", "Server", 40),           // 10 another emitter
                ("object", "Object", 24),           // 11 its _events
            ],
            &[
                (0, "element", "1", 1),
                (0, "element", "2", 10),
                (1, "property", "_events", 2),
                (2, "property", "config:reload", 3),
                (2, "property", "stop", 7),
                (2, "property", "gone", 8),
                (2, "property", "__proto__", 9),
                (3, "element", "0", 4),
                (3, "element", "1", 5),
                (3, "element", "2", 6),
                (3, "element", "3", 8),
                (10, "property", "_events", 11),
                (11, "property", "request", 7),
            ],
        );
        let names = KnownNames::find(&h);
        let l = listeners(&h, &names, 10);
        let got: Vec<(&str, &str, u64)> = l
            .iter()
            .map(|r| (r.emitter.as_str(), r.event.as_str(), r.listeners))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Bus", "config:reload", 3),
                ("Bus", "stop", 1),
                ("Server", "request", 1)
            ]
        );
        assert_eq!(l[0].node_id, 3);
        assert!(l[0].path.contains("Bus"), "{}", l[0].path);
        assert_eq!(listeners(&h, &names, 1).len(), 1);
    }
}
