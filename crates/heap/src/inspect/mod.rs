//! Inspections in the style of memlab and dotMemory, run by default beside the summary, the
//! diff and the three-snapshot comparison: duplicated strings ([`strings`]), listeners per
//! emitter ([`listeners`]) and collections that grew ([`collections`]).
//!
//! They read the analysed [`Heap`] only through its public arrays and accessors, in linear
//! passes over nodes or edges (no copy of string text, no per-node allocation), so they add a
//! few percent to `heap summary` on a production-sized snapshot (see docs/benchmarks-heap.md).

pub mod collections;
pub mod listeners;
pub mod strings;

use crate::analysis::Heap;
use leakhound_schema::heap::{DuplicatedStrings, EmitterListeners};

/// The inspections `heap summary` adds: duplicated strings and listeners per emitter.
pub fn for_summary(h: &Heap) -> (Option<DuplicatedStrings>, Vec<EmitterListeners>) {
    let t0 = std::time::Instant::now();
    let strings = strings::duplicated(h, TOP);
    crate::timing::timing("inspections: duplicated strings", t0);
    let t0 = std::time::Instant::now();
    let names = KnownNames::find(h);
    crate::timing::timing("inspections: names", t0);
    let listeners = listeners::listeners(h, &names, TOP);
    crate::timing::timing("inspections: names + listeners", t0);
    (Some(strings), listeners)
}

/// How many rows each inspection keeps.
pub const TOP: usize = 10;

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
        let mut k = KnownNames::default();
        let strings = &h.graph.strings;
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
    h.graph.node_type[v as usize] == h.t.hidden && h.graph.name(v) == "system / Oddball"
}

/// Cut program text for display: at most `max` characters, and whether it was cut.
pub fn shorten(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((at, _)) => (s[..at].to_string(), true),
        None => (s.to_string(), false),
    }
}

#[cfg(test)]
pub(crate) mod testheap {
    //! Small synthetic snapshots for the inspections' unit tests.
    use crate::analysis::Heap;
    use crate::parse::parse;

    /// A snapshot from (type, name, self size) nodes and (from, edge type, name or index, to)
    /// edges; node 0 is the synthetic root. Node ids are odd (JS) and `id_base + 2 * i + 1`.
    pub fn heap(nodes: &[(&str, &str, u64)], edges: &[(usize, &str, &str, usize)]) -> Heap {
        heap_ids(nodes, edges, 0)
    }

    pub fn heap_ids(
        nodes: &[(&str, &str, u64)],
        edges: &[(usize, &str, &str, usize)],
        id_base: u64,
    ) -> Heap {
        let node_types = [
            "hidden",
            "array",
            "string",
            "object",
            "code",
            "closure",
            "regexp",
            "number",
            "native",
            "synthetic",
            "concatenated string",
            "sliced string",
        ];
        let edge_types = [
            "context", "element", "property", "internal", "hidden", "shortcut", "weak",
        ];
        let mut strings: Vec<String> = vec![String::new()];
        let mut intern = |s: &str| -> usize {
            strings.iter().position(|x| x == s).unwrap_or_else(|| {
                strings.push(s.to_string());
                strings.len() - 1
            })
        };
        let mut ns = Vec::new();
        for (i, (ty, name, size)) in nodes.iter().enumerate() {
            let t = node_types.iter().position(|x| x == ty).expect("node type");
            let count = edges.iter().filter(|e| e.0 == i).count();
            let id = if i == 0 {
                1
            } else {
                id_base + 2 * i as u64 + 1
            };
            ns.push(format!("{t},{},{id},{size},{count},0", intern(name)));
        }
        let mut sorted: Vec<_> = edges.to_vec();
        sorted.sort_by_key(|e| e.0);
        let mut es = Vec::new();
        for (_, ty, name, to) in &sorted {
            let t = edge_types.iter().position(|x| x == ty).expect("edge type");
            let n = if *ty == "element" || *ty == "hidden" {
                name.parse::<usize>().expect("an index")
            } else {
                intern(name)
            };
            es.push(format!("{t},{n},{}", to * 6));
        }
        let quoted: Vec<String> = strings
            .iter()
            .map(|s| serde_json::to_string(s).expect("a string"))
            .collect();
        let json = format!(
            r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id"],"node_types":[{nt:?},"string","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[{et:?},"string_or_number","node"]}},"node_count":{},"edge_count":{}}},"nodes":[{}],"edges":[{}],"strings":[{}]}}"#,
            nodes.len(),
            sorted.len(),
            ns.join(","),
            es.join(","),
            quoted.join(","),
            nt = node_types,
            et = edge_types,
        );
        Heap::from_graph(parse(json.as_bytes()).expect("a valid snapshot"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
