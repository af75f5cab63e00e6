//! `heap diff A B`: per class, objects new in B and objects gone since A, matched by node id.
//! JS object ids (odd) are stable within one process, so this is exact for JS objects; native
//! (even) ids are not stable and are left out.
//!
//! A is reduced to [`Before`] (its JS objects' ids, classes and sizes, and its collections'
//! sizes) and closed before B is opened: two 1 GB heaps held at once took 2.3× the larger file.

use crate::analysis::Heap;
use crate::inspect::collections::{grown_since, CollectionSizes};
use crate::timing::timing;
use rustc_hash::FxHashMap;

pub use leakhound_schema::heap::{ClassDiff, DiffReport};

/// All `heap diff` needs of its first snapshot.
pub struct Before {
    total: u64,
    class_names: Vec<String>,
    /// The JS objects with a size, sorted by id: their ids, class indices and self sizes
    /// side by side. Sorted and bucketed ([`Before::starts`]) they are their own id index:
    /// a hash set of the ids beside them while B was open, and then one of B's ids, took
    /// the peak to 1.42× the larger file.
    ids: Vec<u32>,
    classes: Vec<u32>,
    /// Self sizes in 4 bytes; [`u32::MAX`] means the size is in `big_sizes` (by index).
    sizes: Vec<u32>,
    big_sizes: FxHashMap<u32, u64>,
    /// `starts[k]..starts[k + 1]`: the objects whose id's top [`BUCKET_BITS`] bits are `k`.
    starts: Vec<u32>,
    collections: CollectionSizes,
}

/// Ids are bucketed by their top 16 bits (a 256 KB table), so a lookup is a binary search
/// of a few hundred ids in one or two cache lines' reach rather than of millions.
const BUCKET_BITS: u32 = 16;

fn bucket(id: u32) -> usize {
    (id >> (32 - BUCKET_BITS)) as usize
}

impl Before {
    pub fn of(a: &Heap) -> Before {
        let t0 = std::time::Instant::now();
        let id = |v: u32| a.graph.node_id[v as usize];
        let nodes: Vec<u32> = (0..a.node_count() as u32)
            .filter(|&v| a.is_js_id(v) && a.self_size.get(v as usize) > 0)
            .collect();
        // A counting sort by bucket, then each (small) bucket sorted.
        let mut starts = vec![0u32; (1 << BUCKET_BITS) + 1];
        for &v in &nodes {
            starts[bucket(id(v)) + 1] += 1;
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; nodes.len()];
        for &v in &nodes {
            let k = bucket(id(v));
            order[next[k] as usize] = v;
            next[k] += 1;
        }
        drop((nodes, next));
        for k in 0..1 << BUCKET_BITS {
            order[starts[k] as usize..starts[k + 1] as usize].sort_unstable_by_key(|&v| id(v));
        }
        let b = Before {
            total: a.total,
            class_names: a.class_names.clone(),
            ids: order.iter().map(|&v| id(v)).collect(),
            classes: order.iter().map(|&v| a.class_of[v as usize]).collect(),
            sizes: order
                .iter()
                .map(|&v| u32::try_from(a.self_size.get(v as usize)).unwrap_or(u32::MAX))
                .collect(),
            big_sizes: order
                .iter()
                .enumerate()
                .filter(|&(_, &v)| a.self_size.get(v as usize) >= u64::from(u32::MAX))
                .map(|(i, &v)| (i as u32, a.self_size.get(v as usize)))
                .collect(),
            starts,
            collections: CollectionSizes::of(a),
        };
        timing("diff: first snapshot reduced", t0);
        b
    }

    /// The self size of object `i` (in id order).
    fn size(&self, i: usize) -> u64 {
        match self.sizes[i] {
            u32::MAX => self.big_sizes[&(i as u32)],
            s => u64::from(s),
        }
    }

    /// The objects with JS id `id` (ids are unique in a well-formed snapshot; a repeated
    /// one matches all its objects, as a set of ids would).
    fn with_id(&self, id: u32) -> std::ops::Range<usize> {
        let k = bucket(id);
        let (s, e) = (self.starts[k] as usize, self.starts[k + 1] as usize);
        let ids = &self.ids[s..e];
        let lo = ids.partition_point(|&x| x < id);
        let hi = lo + ids[lo..].partition_point(|&x| x == id);
        s + lo..s + hi
    }
}

pub fn diff(a: &Heap, b: &Heap) -> DiffReport {
    diff_since(Before::of(a), b)
}

/// [`diff`] with A already reduced to its [`Before`].
pub fn diff_since(a: Before, b: &Heap) -> DiffReport {
    // The collections that grew need only B and A's collection sizes: on the other core.
    let (grown, by) = std::thread::scope(|sc| {
        let before = std::slice::from_ref(&a.collections);
        let grown = sc.spawn(move || grown_since(before, b, crate::inspect::TOP));
        let by = changed(&a, b);
        (grown.join().expect("grown collections thread"), by)
    });
    let mut classes: Vec<ClassDiff> = by
        .into_iter()
        .map(|(class, mut d)| {
            d.class = class;
            d.count_delta = d.new_count as i64 - d.deleted_count as i64;
            d.bytes_delta = d.new_bytes as i64 - d.deleted_bytes as i64;
            d
        })
        .collect();
    classes.sort_by(|x, y| {
        y.bytes_delta
            .cmp(&x.bytes_delta)
            .then(x.class.cmp(&y.class))
    });
    DiffReport {
        schema: leakhound_schema::heap::DIFF_SCHEMA.into(),
        total_before: a.total,
        total_after: b.total,
        classes,
        grown_collections: grown,
    }
}

/// Per class, the objects new in B and gone since A. Each of B's objects is looked up among
/// A's: the ones not found are new, and A's objects never found are gone.
fn changed(a: &Before, b: &Heap) -> FxHashMap<String, ClassDiff> {
    let mut found = vec![false; a.ids.len()];
    let mut by: FxHashMap<String, ClassDiff> = FxHashMap::default();
    for v in 0..b.node_count() as u32 {
        crate::cancel::point(v as usize);
        let s = b.self_size.get(v as usize);
        if s == 0 || !b.is_js_id(v) {
            continue;
        }
        let same = a.with_id(b.graph.node_id[v as usize]);
        if !same.is_empty() {
            found[same].fill(true);
            continue;
        }
        let d = by.entry(b.class_name(v).to_string()).or_default();
        d.new_count += 1;
        d.new_bytes += s;
    }
    for (i, _) in found.iter().enumerate().filter(|(_, &f)| !f) {
        crate::cancel::point(i);
        let d = by
            .entry(a.class_names[a.classes[i] as usize].clone())
            .or_default();
        d.deleted_count += 1;
        d.deleted_bytes += a.size(i);
    }
    by
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testheap::heap_ids;

    /// A root holding `n` objects of alternating classes and growing sizes (but one).
    fn objects(n: usize, id_base: u64) -> Heap {
        let mut nodes = vec![("synthetic", "", 0)];
        let mut edges = Vec::new();
        for i in 0..n {
            // One object over 4 GiB, whose size does not fit the compact sizes.
            let size = if i == 1 { 5 << 30 } else { 16 + i as u64 };
            let class = if i % 2 == 0 { "Foo" } else { "Bar" };
            nodes.push(("object", class, size));
            edges.push((0, "element", "1", i + 1));
        }
        heap_ids(&nodes, &edges, id_base)
    }

    #[test]
    fn ids_across_buckets_match_as_a_set_of_ids_would() {
        // A's ids straddle a bucket boundary (2^16) and the last bucket (just under 2^32);
        // B's are A's shifted by three objects, so some are new, some gone, some kept.
        for base in [0u64, 65_520, (1 << 32) - 64] {
            let (a, b) = (objects(20, base), objects(20, base + 6));
            let one = diff(&a, &b);
            let whole = crate::whole_heap::diff(&a, &b);
            assert_eq!(
                serde_json::to_string(&one).unwrap(),
                serde_json::to_string(&whole).unwrap()
            );
            let new: u64 = one.classes.iter().map(|c| c.new_count).sum();
            let gone: u64 = one.classes.iter().map(|c| c.deleted_count).sum();
            assert_eq!((new, gone), (3, 3), "{:?}", one.classes);
        }
    }
}
