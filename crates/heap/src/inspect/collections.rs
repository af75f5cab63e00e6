//! Collections that grew: the same object (by its stable JS id) in every snapshot compared,
//! with more entries in each than in the one before. A `Map` used as a cache, an array that
//! is only pushed to, an object used as a dictionary: the holder of most leaks, named with
//! the variable or property that holds it.
//!
//! Entries are read from the snapshot's edges: a `Map`'s or `Set`'s backing `table` holds its
//! keys and values as numbered internal edges (key, value, then a chain slot that is never an
//! object: so the slot missing from the numbers tells which edges share an entry); an array's
//! elements are `element` edges; a plain object's entries are its properties and elements.
//! What a snapshot does not show is not counted: small integers (Smis) are no objects, so an
//! entry whose key and value are both small integers is invisible. Subclasses are counted
//! by their own class name only when it is one of the four.

use crate::analysis::Heap;
use crate::app_path::app_first;
use crate::coded::Coded;
use crate::id_index::IdIndex;
use crate::inspect::names::{is_oddball, KnownNames};
use crate::paths::{path_to, render};
use leakhound_schema::heap::{CollectionGrowth, CollectionKind};
use rustc_hash::FxHashMap;

/// A collection is listed when it holds at least this many entries in the last snapshot.
pub const MIN_ENTRIES: u64 = 4;
/// App-first paths are looked for on this many rows (each is a scan of the functions).
const APP_PATHS: usize = 5;

/// The collection kind of each class index of `h` (`None`: not a collection).
fn kinds(h: &Heap) -> Vec<Option<CollectionKind>> {
    h.class_names
        .iter()
        .map(|c| match c.as_str() {
            "Map" => Some(CollectionKind::Map),
            "Set" => Some(CollectionKind::Set),
            "Array" => Some(CollectionKind::Array),
            "Object" => Some(CollectionKind::Object),
            _ => None,
        })
        .collect()
}

/// Entries of collection `v` of kind `k`.
pub fn entries(h: &Heap, names: &KnownNames, v: u32, k: CollectionKind) -> u64 {
    let g = &h.graph;
    let t = &h.t;
    match k {
        CollectionKind::Array => g
            .edges(v)
            .filter(|&e| g.edge_type[e] == t.e_element && !is_oddball(h, g.edge_to[e]))
            .count() as u64,
        CollectionKind::Object => g
            .edges(v)
            .filter(|&e| {
                let ty = g.edge_type[e];
                ty == t.e_element || (ty == t.e_property && !names.proto.contains(&g.edge_name[e]))
            })
            .count() as u64,
        CollectionKind::Map | CollectionKind::Set => {
            let Some(table) = g
                .edges(v)
                .find(|&e| g.edge_type[e] == t.e_internal && names.table.contains(&g.edge_name[e]))
                .map(|e| g.edge_to[e])
            else {
                return 0;
            };
            let slots = g.edges(table).filter_map(|e| {
                if g.edge_type[e] != t.e_internal || is_oddball(h, g.edge_to[e]) {
                    return None;
                }
                g.edge_name_str(e, t)?.parse::<u64>().ok()
            });
            if k == CollectionKind::Set {
                return slots.count() as u64;
            }
            table_entries(slots)
        }
    }
}

/// A `Map` table's entries from the numbers of its slots that hold objects. Each entry is
/// three slots (key, value, chain) from an unknown offset; the chain is never an object, so
/// the residue (mod 3) that never occurs is the chain's and fixes where entries start. When
/// only one residue occurs (keys or values all small integers) each slot is one entry.
fn table_entries(slots: impl Iterator<Item = u64>) -> u64 {
    let slots: Vec<u64> = slots.collect();
    let mut seen = [false; 3];
    for &s in &slots {
        seen[(s % 3) as usize] = true;
    }
    let residues = seen.iter().filter(|&&b| b).count();
    if residues != 2 {
        // One residue: one slot per entry. Three cannot be a Map's table; count pairs.
        return if residues == 3 {
            slots.len() as u64 / 2
        } else {
            slots.len() as u64
        };
    }
    let chain = seen.iter().position(|&b| !b).unwrap_or(0) as u64;
    let key = (chain + 1) % 3;
    // Entry number: slots key and key+1 (mod 3) of one entry share it.
    let mut ids: Vec<u64> = slots.iter().map(|&s| (s + 3 - key) / 3).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len() as u64
}

/// The collections of `h` (JS objects of the four kinds) and their kinds, in node order.
fn collection_nodes(h: &Heap) -> impl Fn(u32) -> Option<CollectionKind> + '_ {
    let kinds = kinds(h);
    move |v| {
        let k = kinds[h.class_of[v as usize] as usize]?;
        (h.graph.node_type[v as usize] == h.t.object && h.is_js_id(v)).then_some(k)
    }
}

/// All [`grown`] needs of an earlier snapshot: the entries and retained size of each of its
/// collections by JS object id. `heap diff` and `heap leaks` keep this and close the heap
/// before they open the next, so only one whole heap is in memory at a time; it is held at
/// the command's peak memory, so it is columns by an [`IdIndex`] (about 7 bytes a
/// collection) rather than a hash map (about 40).
pub struct CollectionSizes {
    ids: IdIndex,
    /// At each position of `ids`: the collection's entries (most hold a few: [`Coded`])
    /// and retained size (in 4 bytes; [`u32::MAX`]: in `big`, by position).
    entries: Coded<u32>,
    retained: Vec<u32>,
    big: FxHashMap<u32, u64>,
}

impl CollectionSizes {
    pub fn of(h: &Heap) -> CollectionSizes {
        let names = KnownNames::find(h);
        let kind = collection_nodes(h);
        let (ids, order) = IdIndex::build(h.node_count(), |v| {
            kind(v).map(|_| h.graph.node_id[v as usize])
        });
        let entries = Coded::new(order.len(), |i| {
            crate::cancel::point(i);
            let v = order[i];
            let k = kind(v).expect("a collection");
            // An object has fewer edges than 2^32.
            u32::try_from(entries(h, &names, v, k)).unwrap_or(u32::MAX)
        });
        let retained = |i: usize| h.retained[order[i] as usize];
        CollectionSizes {
            ids,
            entries,
            retained: (0..order.len())
                .map(|i| u32::try_from(retained(i)).unwrap_or(u32::MAX))
                .collect(),
            big: (0..order.len())
                .filter(|&i| retained(i) >= u64::from(u32::MAX))
                .map(|i| (i as u32, retained(i)))
                .collect(),
        }
    }

    /// The entries and retained size of the collection with JS id `id` (of the last node
    /// with that id, as a map's insert would keep).
    fn get(&self, id: u32) -> Option<(u64, u64)> {
        let i = self.ids.positions(id).last()?;
        let retained = match self.retained[i] {
            u32::MAX => self.big[&(i as u32)],
            r => u64::from(r),
        };
        Some((u64::from(self.entries.get(i)), retained))
    }

    /// How many collections (for the stage timings).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The collections of the last of `heaps` (oldest first) present in all of them whose entries
/// grew from each snapshot to the next, the `top` biggest growths first.
pub fn grown(heaps: &[&Heap], top: usize) -> Vec<CollectionGrowth> {
    let Some((last, earlier)) = heaps.split_last() else {
        return Vec::new();
    };
    if earlier.is_empty() || top == 0 {
        return Vec::new();
    }
    let before: Vec<CollectionSizes> = earlier.iter().map(|h| CollectionSizes::of(h)).collect();
    grown_since(&before, last, top)
}

/// [`grown`] with the earlier snapshots already reduced to their [`CollectionSizes`]
/// (oldest first).
pub fn grown_since(before: &[CollectionSizes], last: &Heap, top: usize) -> Vec<CollectionGrowth> {
    if before.is_empty() || top == 0 {
        return Vec::new();
    }
    let names = KnownNames::find(last);
    let kind = collection_nodes(last);
    // (ordinal, kind, entries per snapshot)
    let mut rows: Vec<(u32, CollectionKind, Vec<u64>)> = Vec::new();
    for v in 0..last.node_count() as u32 {
        crate::cancel::point(v as usize);
        let Some(k) = kind(v) else {
            continue;
        };
        let id = last.graph.node_id[v as usize];
        let Some(mut series) = before
            .iter()
            .map(|m| m.get(id).map(|x| x.0))
            .collect::<Option<Vec<u64>>>()
        else {
            continue;
        };
        let n = entries(last, &names, v, k);
        if n < MIN_ENTRIES {
            continue;
        }
        series.push(n);
        if series.windows(2).all(|w| w[1] > w[0]) {
            rows.push((v, k, series));
        }
    }
    let growth = |s: &[u64]| s[s.len() - 1] - s[0];
    rows.sort_by(|a, b| {
        growth(&b.2)
            .cmp(&growth(&a.2))
            .then(last.retained[b.0 as usize].cmp(&last.retained[a.0 as usize]))
            .then(a.0.cmp(&b.0))
    });
    rows.truncate(top);
    rows.into_iter()
        .enumerate()
        .map(|(rank, (v, kind, entries))| {
            let id = last.graph.node_id[v as usize];
            let retained: Vec<u64> = before
                .iter()
                .map(|m| m.get(id).map_or(0, |x| x.1))
                .chain([last.retained[v as usize]])
                .collect();
            let steps = path_to(last, v);
            let holder = steps
                .last()
                .filter(|s| matches!(s.edge_type.as_str(), "property" | "context"))
                .map(|s| s.edge.clone());
            let app_path = if rank < APP_PATHS {
                app_path(last, v)
            } else {
                Vec::new()
            };
            CollectionGrowth {
                kind,
                class: last.class_name(v).to_string(),
                node_id: u64::from(id),
                entries_growth: growth(&entries),
                bytes_growth: retained[retained.len() - 1] as i64 - retained[0] as i64,
                entries,
                retained_bytes: retained,
                holder,
                path: render(&steps),
                app_path,
            }
        })
        .collect()
}

/// The app-first path to collection `v`, ending in the name that holds it: asked for one of
/// its entries (a node first reached through `v`), whose holder is `v` itself.
fn app_path(h: &Heap, v: u32) -> Vec<String> {
    let g = &h.graph;
    let child = g.edges(v).map(|e| g.edge_to[e]).find(|&c| {
        let pe = h.parent_edge[c as usize];
        pe != crate::analysis::NO_EDGE && g.edges(v).contains(&(pe as usize))
    });
    let Some(c) = child else {
        return Vec::new();
    };
    let steps = path_to(h, c);
    app_first(h, c, &steps).map(|p| p.shown).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testheap::heap_ids;

    #[test]
    fn map_table_slots_group_into_entries() {
        // Buckets 4: entries start at slot 7 (key 7, value 8, chain 9; key 10 ...).
        assert_eq!(table_entries([7, 8, 10, 11, 13, 14].into_iter()), 3);
        // Buckets 2: entries start at slot 5.
        assert_eq!(table_entries([5, 6, 8, 9].into_iter()), 2);
        // Small-integer keys: values only, one slot each.
        assert_eq!(table_entries([8, 11, 14].into_iter()), 3);
        // A key without its value (the value a small integer) is still an entry.
        assert_eq!(table_entries([7, 8, 10, 13, 14].into_iter()), 3);
        assert_eq!(table_entries(std::iter::empty()), 0);
    }

    /// One snapshot of a process holding a Map, an array, a plain object and a fixed Set,
    /// with `n` entries in each of the growing three. Ids are stable across calls.
    fn snapshot(n: usize) -> Heap {
        let mut nodes: Vec<(&str, &str, u64)> = vec![
            ("synthetic", "", 0),               // 0
            ("object", "Object", 40),           // 1 global
            ("object", "Map", 32),              // 2 cache
            ("array", "", 264),                 // 3 its table
            ("object", "Array", 32),            // 4 list
            ("object", "Object", 56),           // 5 dict
            ("object", "Set", 32),              // 6 fixed
            ("array", "", 120),                 // 7 its table
            ("hidden", "system / Oddball", 16), // 8
        ];
        let mut edges: Vec<(usize, &str, String, usize)> = vec![
            (0, "element", "1".into(), 1),
            (1, "property", "cache".into(), 2),
            (1, "property", "list".into(), 4),
            (1, "property", "dict".into(), 5),
            (1, "property", "fixed".into(), 6),
            (2, "internal", "table".into(), 3),
            (6, "internal", "table".into(), 7),
            (5, "property", "__proto__".into(), 1),
            (4, "element", "99".into(), 8),
        ];
        // The fixed Set's 5 members.
        for i in 0..5 {
            nodes.push(("object", "Member", 16));
            edges.push((7, "internal", (5 + 2 * i).to_string(), nodes.len() - 1));
        }
        // Entries: ids must not depend on n for the fixed nodes above; the entries come after.
        for i in 0..n {
            nodes.push(("string", "k", 24));
            let key = nodes.len() - 1;
            nodes.push(("object", "Entry", 32));
            let val = nodes.len() - 1;
            edges.push((3, "internal", (7 + 3 * i).to_string(), key));
            edges.push((3, "internal", (8 + 3 * i).to_string(), val));
            edges.push((4, "element", i.to_string(), val));
            edges.push((5, "property", format!("key{i}"), val));
        }
        let names: Vec<String> = edges.iter().map(|e| e.2.clone()).collect();
        let edges: Vec<(usize, &str, &str, usize)> = edges
            .iter()
            .zip(&names)
            .map(|(e, n)| (e.0, e.1, n.as_str(), e.3))
            .collect();
        heap_ids(&nodes, &edges, 0)
    }

    #[test]
    fn entries_of_each_kind() {
        let h = snapshot(6);
        let names = KnownNames::find(&h);
        let e = |v: u32, k| entries(&h, &names, v, k);
        assert_eq!(e(2, CollectionKind::Map), 6);
        assert_eq!(
            e(4, CollectionKind::Array),
            6,
            "the oddball element is a hole"
        );
        assert_eq!(e(5, CollectionKind::Object), 6, "__proto__ is no entry");
        assert_eq!(e(6, CollectionKind::Set), 5);
    }

    #[test]
    fn collections_that_grew_in_every_interval_are_listed_most_growth_first() {
        let (a, b, c) = (snapshot(4), snapshot(8), snapshot(20));
        let g = grown(&[&a, &b, &c], 10);
        let got: Vec<(CollectionKind, Option<&str>, &[u64])> = g
            .iter()
            .map(|r| (r.kind, r.holder.as_deref(), r.entries.as_slice()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.iter().all(|r| r.2 == [4, 8, 20]), "{got:?}");
        let holders: Vec<_> = got.iter().map(|r| r.1.unwrap()).collect();
        assert!(
            holders.contains(&"cache") && holders.contains(&"list") && holders.contains(&"dict")
        );
        assert!(g.iter().all(|r| r.entries_growth == 16));
        // The values are shared by the three, so only the Map's own keys count as its bytes.
        let map = g.iter().find(|r| r.kind == CollectionKind::Map).unwrap();
        assert!(map.bytes_growth >= 16 * 24, "{map:?}");
        assert!(map.retained_bytes.windows(2).all(|w| w[1] > w[0]));
        assert!(g[0].path.contains(g[0].holder.as_deref().unwrap()));
        // The fixed Set did not grow; a snapshot that shrank breaks "grew in every interval".
        assert!(g.iter().all(|r| r.kind != CollectionKind::Set));
        assert!(grown(&[&a, &c, &b], 10).is_empty());
        // Two snapshots (heap diff).
        assert_eq!(grown(&[&b, &c], 2).len(), 2);
        assert!(grown(&[&c], 10).is_empty());
    }

    /// What a closed snapshot keeps of its collections reads back as the heap had it, a
    /// retained size over 4 GiB (an ArrayBuffer-sized Map) included.
    #[test]
    fn collection_sizes_read_back_as_the_heap_had_them() {
        let mut h = snapshot(7);
        h.retained[2] = 5 << 30;
        h.retained[4] = u64::from(u32::MAX);
        let sizes = CollectionSizes::of(&h);
        let names = KnownNames::find(&h);
        let kind = collection_nodes(&h);
        let mut seen = 0;
        for v in 0..h.node_count() as u32 {
            let id = h.graph.node_id[v as usize];
            match kind(v) {
                Some(k) => {
                    let want = (entries(&h, &names, v, k), h.retained[v as usize]);
                    assert_eq!(sizes.get(id), Some(want), "node {v}");
                    seen += 1;
                }
                None => assert_eq!(sizes.get(id), None, "node {v}"),
            }
        }
        assert_eq!((seen, sizes.len()), (5, 5));
    }
}
