//! Shared by the inspections: the few property names they look for, V8's empty-slot
//! marker, and how program text is cut for display.

use crate::analysis::Heap;
use crate::graph::{Graph, TypeIds};

/// Indices of the few property names the inspections look for, found in one pass over the
/// string table (V8 writes each name once, but a file may repeat one: all are kept).
#[derive(Debug, Default, Clone)]
pub struct KnownNames {
    pub events: Vec<u32>,
    pub proto: Vec<u32>,
    pub table: Vec<u32>,
}

impl KnownNames {
    pub fn find(h: &Heap) -> KnownNames {
        KnownNames::in_graph(&h.graph)
    }

    /// [`KnownNames::find`] on the graph alone.
    pub fn in_graph(g: &Graph) -> KnownNames {
        let mut k = KnownNames::default();
        let strings = &g.strings;
        for i in 0..strings.len() {
            let Some(s) = strings.get(i) else { continue };
            // Length first: most strings are ruled out without comparing text.
            let slot = match s.len() {
                7 if s == "_events" => &mut k.events,
                9 if s == "__proto__" => &mut k.proto,
                5 if s == "table" => &mut k.table,
                _ => continue,
            };
            slot.push(i as u32);
        }
        k
    }
}

/// Whether `v` is one of V8's oddballs (`undefined`, `null`, the hole): a slot holding one
/// is empty.
pub(crate) fn is_oddball(h: &Heap, v: u32) -> bool {
    is_oddball_in(&h.graph, &h.t, v)
}

/// [`is_oddball`] on the graph alone.
pub(crate) fn is_oddball_in(g: &Graph, t: &TypeIds, v: u32) -> bool {
    g.node_type[v as usize] == t.hidden && g.name(v) == "system / Oddball"
}

/// Cut program text for display: at most `max` characters, and whether it was cut.
pub fn shorten(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((at, _)) => (s[..at].to_string(), true),
        None => (s.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testheap;

    #[test]
    fn shorten_cuts_on_characters_not_bytes() {
        assert_eq!(shorten("abc", 5), ("abc".to_string(), false));
        assert_eq!(shorten("ééééé", 3), ("ééé".to_string(), true));
    }

    #[test]
    fn known_names_are_found_by_index() {
        let h = testheap::heap(
            &[
                ("synthetic", "", 0),
                ("object", "Bus", 40),
                ("object", "Object", 24),
            ],
            &[(0, "element", "1", 1), (1, "property", "_events", 2)],
        );
        let k = KnownNames::find(&h);
        assert_eq!(k.events.len(), 1);
        assert_eq!(h.graph.strings.get(k.events[0] as usize), Some("_events"));
        assert!(k.proto.is_empty() && k.table.is_empty());
    }
}
