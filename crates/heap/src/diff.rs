//! `heap diff A B`: per class, objects new in B and objects gone since A, matched by node id.
//! JS object ids (odd) are stable within one process, so this is exact for JS objects; native
//! (even) ids are not stable and are left out.
//!
//! A is reduced to [`Before`] (its JS objects' ids, classes and sizes, and its collections'
//! sizes) and closed before B is opened: two 1 GB heaps held at once took 2.3× the larger file.

use crate::analysis::Heap;
use crate::coded::Coded;
use crate::error::OpenError;
use crate::id_index::IdIndex;
use crate::inspect::collections::{grown_since, CollectionSizes};
use crate::timing::timing;
use rustc_hash::FxHashMap;
use std::path::Path;

pub use leakhound_schema::heap::{ClassDiff, DiffReport};

/// All `heap diff` needs of its first snapshot.
pub struct Before {
    total: u64,
    class_names: Vec<String>,
    /// The JS objects with a size, by id ([`IdIndex`]: 2 bytes an id); at each object's
    /// position in it, its class index and self size. These are held while B is open, at
    /// the command's peak: 4-byte ids, classes and sizes took the peak to 1.34× the larger
    /// file, and a hash set of the ids beside them 1.42×.
    ids: IdIndex,
    classes: Classes,
    /// Self sizes in 2 bytes, coded ([`Coded`]: one byte for the most frequent);
    /// [`u16::MAX`] means the size is in `big_sizes` (by position): most JS objects are tens
    /// of bytes.
    sizes: Coded<u16>,
    big_sizes: FxHashMap<u32, u64>,
    collections: CollectionSizes,
}

/// Class indices coded in a byte when there are fewer than 65,536 classes (there are
/// thousands, a few dozen of them most objects'), else in 4 bytes.
enum Classes {
    Coded(Coded<u16>),
    Wide(Vec<u32>),
}

impl Classes {
    fn of(n: usize, class: impl Fn(usize) -> u32, classes: usize) -> Classes {
        if classes <= usize::from(u16::MAX) + 1 {
            Classes::Coded(Coded::new(n, |i| class(i) as u16))
        } else {
            Classes::Wide((0..n).map(class).collect())
        }
    }

    fn get(&self, i: usize) -> u32 {
        match self {
            Classes::Coded(c) => u32::from(c.get(i)),
            Classes::Wide(v) => v[i],
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Classes::Coded(c) => c.bytes(),
            Classes::Wide(v) => v.len() * 4,
        }
    }
}

impl Before {
    pub fn of(a: &Heap) -> Before {
        let t0 = std::time::Instant::now();
        let (ids, order) = IdIndex::build(a.node_count(), |v| {
            (a.is_js_id(v) && a.self_size.get(v as usize) > 0).then(|| a.graph.node_id[v as usize])
        });
        let size = |v: u32| a.self_size.get(v as usize);
        let b = Before {
            total: a.total,
            class_names: a.class_names.clone(),
            ids,
            classes: Classes::of(
                order.len(),
                |i| a.class_of[order[i] as usize],
                a.class_names.len(),
            ),
            sizes: Coded::new(order.len(), |i| {
                u16::try_from(size(order[i])).unwrap_or(u16::MAX)
            }),
            big_sizes: order
                .iter()
                .enumerate()
                .filter(|&(_, &v)| size(v) >= u64::from(u16::MAX))
                .map(|(i, &v)| (i as u32, size(v)))
                .collect(),
            collections: CollectionSizes::of(a),
        };
        drop(order);
        timing(
            &format!(
                "diff: first snapshot reduced ({} objects, {} big; KB: {} ids, {} classes, {} sizes; {} collections)",
                b.ids.len(),
                b.big_sizes.len(),
                b.ids.bytes() / 1024,
                b.classes.bytes() / 1024,
                b.sizes.bytes() / 1024,
                b.collections.len()
            ),
            t0,
        );
        b
    }

    /// The self size of the object at position `i`.
    fn size(&self, i: usize) -> u64 {
        match self.sizes.get(i) {
            u16::MAX => self.big_sizes[&(i as u32)],
            s => u64::from(s),
        }
    }
}

pub fn diff(a: &Heap, b: &Heap) -> DiffReport {
    diff_since(Before::of(a), b)
}

/// [`diff`] of two snapshot files, one whole heap at a time: A is reduced to its [`Before`]
/// and closed (its freed memory returned to the system) before B is opened, and A, which
/// gives only ids, classes and sizes, is opened without the distances
/// ([`Heap::open_without_paths`]). `err` names a file that could not be read.
pub fn diff_of_files<E>(
    a: &Path,
    b: &Path,
    err: impl Fn(&Path, OpenError) -> E,
) -> Result<DiffReport, E> {
    let before = Before::of(&Heap::open_without_paths(a).map_err(|e| err(a, e))?);
    crate::release::return_freed_memory();
    let hb = Heap::open(b).map_err(|e| err(b, e))?;
    Ok(diff_since(before, &hb))
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
    // One bit per object of A.
    let mut found = vec![0u64; a.ids.len().div_ceil(64)];
    let mut by: FxHashMap<String, ClassDiff> = FxHashMap::default();
    for v in 0..b.node_count() as u32 {
        crate::cancel::point(v as usize);
        let s = b.self_size.get(v as usize);
        if s == 0 || !b.is_js_id(v) {
            continue;
        }
        let same = a.ids.positions(b.graph.node_id[v as usize]);
        if !same.is_empty() {
            for i in same {
                found[i / 64] |= 1 << (i % 64);
            }
            continue;
        }
        let d = by.entry(b.class_name(v).to_string()).or_default();
        d.new_count += 1;
        d.new_bytes += s;
    }
    for i in (0..a.ids.len()).filter(|&i| found[i / 64] & (1 << (i % 64)) == 0) {
        crate::cancel::point(i);
        let d = by
            .entry(a.class_names[a.classes.get(i) as usize].clone())
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
            // One object over 4 GiB, and two about the 2-byte sizes' limit.
            let size = match i {
                1 => 5 << 30,
                2 => 65_535,
                3 => 65_534,
                _ => 16 + i as u64,
            };
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

    #[test]
    fn class_columns_keep_their_values_narrow_or_wide() {
        let values = [0u32, 7, 65_535, 7, 3];
        let small = Classes::of(values.len(), |i| values[i], 65_536);
        assert!(matches!(small, Classes::Coded(_)));
        let wide_values = [0u32, 65_536, 70_000];
        let wide = Classes::of(3, |i| wide_values[i], 70_001);
        assert!(matches!(wide, Classes::Wide(_)));
        assert_eq!((0..5).map(|i| small.get(i)).collect::<Vec<_>>(), values);
        assert_eq!((0..3).map(|i| wide.get(i)).collect::<Vec<_>>(), wide_values);
    }
}
