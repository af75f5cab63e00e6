//! `heap diff A B`: per class, objects new in B and objects gone since A, matched by node id.
//! JS object ids (odd) are stable within one process, so this is exact for JS objects; native
//! (even) ids are not stable and are left out.

use crate::analysis::Heap;
use rustc_hash::{FxHashMap, FxHashSet};

pub use leakhound_schema::heap::{ClassDiff, DiffReport};

fn js_ids(h: &Heap) -> FxHashSet<u64> {
    (0..h.node_count() as u32)
        .filter(|&v| h.is_js_id(v) && h.self_size[v as usize] > 0)
        .map(|v| u64::from(h.graph.node_id[v as usize]))
        .collect()
}

pub fn diff(a: &Heap, b: &Heap) -> DiffReport {
    let ids_a = js_ids(a);
    let ids_b = js_ids(b);
    let mut by: FxHashMap<String, ClassDiff> = FxHashMap::default();
    for v in 0..b.node_count() as u32 {
        crate::cancel::point(v as usize);
        let s = b.self_size[v as usize];
        if s == 0 || !b.is_js_id(v) || ids_a.contains(&u64::from(b.graph.node_id[v as usize])) {
            continue;
        }
        let d = by.entry(b.class_name(v).to_string()).or_default();
        d.new_count += 1;
        d.new_bytes += s;
    }
    for v in 0..a.node_count() as u32 {
        crate::cancel::point(v as usize);
        let s = a.self_size[v as usize];
        if s == 0 || !a.is_js_id(v) || ids_b.contains(&u64::from(a.graph.node_id[v as usize])) {
            continue;
        }
        let d = by.entry(a.class_name(v).to_string()).or_default();
        d.deleted_count += 1;
        d.deleted_bytes += s;
    }
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
        grown_collections: crate::inspect::collections::grown(&[a, b], crate::inspect::TOP),
    }
}
