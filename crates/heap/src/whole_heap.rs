//! `heap diff` and `heap leaks` as they ran before they held one heap at a time: every
//! snapshot open whole at once. Kept only as the reference the one-at-a-time path
//! ([`crate::diff::diff_since`], [`crate::leaks::leaks_since`]) must agree with, report for
//! report, on snapshots Node writes at test time (tests/heap_one_at_a_time.rs).

use crate::analysis::Heap;
use crate::app_path::{app_first, holder_index};
use crate::fmt_bytes;
use crate::leaks::{
    grew_in_place, internal, population_of, FirstObjectAbove, LeakGroup, LeaksReport,
    MIN_GROWN_SHARE, MIN_INSTANCES, MIN_SHARE,
};
use crate::paths::{fold_runs, path_to, render};
use crate::shapes::Shapes;
use leakhound_schema::heap::{ClassDiff, DiffReport};
use rustc_hash::{FxHashMap, FxHashSet};

fn js_ids(h: &Heap) -> FxHashSet<u64> {
    (0..h.node_count() as u32)
        .filter(|&v| h.is_js_id(v) && h.self_size.get(v as usize) > 0)
        .map(|v| u64::from(h.graph.node_id[v as usize]))
        .collect()
}

pub fn diff(a: &Heap, b: &Heap) -> DiffReport {
    let ids_a = js_ids(a);
    let ids_b = js_ids(b);
    let mut by: FxHashMap<String, ClassDiff> = FxHashMap::default();
    for v in 0..b.node_count() as u32 {
        crate::cancel::point(v as usize);
        let s = b.self_size.get(v as usize);
        if s == 0 || !b.is_js_id(v) || ids_a.contains(&u64::from(b.graph.node_id[v as usize])) {
            continue;
        }
        let d = by.entry(b.class_name(v).to_string()).or_default();
        d.new_count += 1;
        d.new_bytes += s;
    }
    for v in 0..a.node_count() as u32 {
        crate::cancel::point(v as usize);
        let s = a.self_size.get(v as usize);
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

fn ids(h: &Heap) -> FxHashSet<u64> {
    (0..h.node_count() as u32)
        .filter(|&v| h.is_js_id(v))
        .map(|v| u64::from(h.graph.node_id[v as usize]))
        .collect()
}

pub fn leaks(s1: &Heap, s2: &Heap, s3: &Heap) -> LeaksReport {
    let before = ids(s1);
    let during = ids(s2);
    let n = s3.node_count();
    let mut cand = vec![false; n];
    for v in 0..n as u32 {
        crate::cancel::point(v as usize);
        let id = u64::from(s3.graph.node_id[v as usize]);
        if s3.is_js_id(v) && during.contains(&id) && !before.contains(&id) {
            cand[v as usize] = true;
        }
    }
    let leaked_objects = cand.iter().filter(|&&c| c).count() as u64;
    drop(before);
    drop(during);

    struct Acc {
        class: String,
        instances: u64,
        retained: u64,
        selfb: u64,
        example: u32,
    }
    // Grouped by class and retainer-path shape, every node's shape memoised (see `shapes`).
    let mut shapes3 = Shapes::new(s3);
    let mut above = FirstObjectAbove::new(s3);
    let mut groups: FxHashMap<(u32, u32), Acc> = FxHashMap::default();
    let mut leaked_retained = 0u64;
    for v in 0..n as u32 {
        crate::cancel::point(v as usize);
        if !cand[v as usize] || internal(s3, v) {
            continue;
        }
        // Topmost: the first non-internal dominator above is not itself a candidate.
        let d = above.of(v);
        if cand[d as usize] && d != v {
            continue;
        }
        leaked_retained += s3.retained[v as usize];
        let key = (s3.class_of[v as usize], shapes3.of(v));
        let a = groups.entry(key).or_insert(Acc {
            class: s3.class_name(v).to_string(),
            instances: 0,
            retained: 0,
            selfb: 0,
            example: v,
        });
        a.instances += 1;
        a.retained += s3.retained[v as usize];
        a.selfb += s3.self_size.get(v as usize);
        if s3.retained[v as usize] > s3.retained[a.example as usize] {
            a.example = v;
        }
    }
    let total = s3.total.max(1);
    // Only groups big enough to matter need their population counted.
    let mut accs: Vec<Acc> = groups.into_values().collect();
    accs.sort_by_key(|a| std::cmp::Reverse(a.retained));
    let mut shapes1 = Shapes::new(s1);
    let mut out: Vec<LeakGroup> = accs
        .into_iter()
        .enumerate()
        .map(|(rank, a)| {
            let steps = fold_runs(path_to(s3, a.example));
            let holder = holder_index(&steps).map(|i| format!("{} ({})", steps[i].edge, steps[i].class));
            let share = a.retained as f64 / total as f64;
            let mut significant = a.instances >= MIN_INSTANCES && share >= MIN_SHARE;
            let one_big = a.instances < MIN_INSTANCES && share >= MIN_GROWN_SHARE;
            let mut population = [0, 0];
            if significant || one_big || rank < 3 {
                let keys = shapes3.keys_of(a.example);
                let before = members_of(&mut shapes1, s1, &a.class, &keys);
                population = [
                    before.len() as u64,
                    population_of(&mut shapes3, s3, &a.class, &keys),
                ];
                significant &= population[1].saturating_sub(population[0]) * 2 >= a.instances;
                if one_big {
                    let was: u64 = before.iter().map(|&v| s1.retained[v as usize]).sum();
                    significant = grew_in_place(was, a.retained, total);
                }
            }
            // One scan of the functions per group shown: only for those that can be.
            let app = (significant || rank < 5)
                .then(|| app_first(s3, a.example, &steps))
                .flatten();
            let sentence = format!(
                "{} {} objects allocated between snapshots 1 and 2 are still alive, retaining {} ({:.1}% of the heap){}; path: {}",
                a.instances,
                a.class,
                fmt_bytes(a.retained),
                share * 100.0,
                holder.as_ref().map(|h| format!(", held by {h}")).unwrap_or_default(),
                render(&steps)
            );
            LeakGroup {
                class: a.class,
                instances: a.instances,
                retained_bytes: a.retained,
                self_bytes: a.selfb,
                percent_of_heap: (share * 1000.0).round() / 10.0,
                holder,
                path: render(&steps),
                path_steps: steps,
                app_path: app.as_ref().map(|p| p.shown.clone()).unwrap_or_default(),
                app_full_path: app.map(|p| p.full),
                example_node_id: u64::from(s3.graph.node_id[a.example as usize]),
                population,
                significant,
                sentence,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        y.retained_bytes
            .cmp(&x.retained_bytes)
            .then(x.class.cmp(&y.class))
    });
    LeaksReport {
        schema: leakhound_schema::heap::LEAKS_SCHEMA.into(),
        totals: [s1.total, s2.total, s3.total],
        leaked_objects,
        leaked_retained_bytes: leaked_retained,
        significant: out.iter().any(|g| g.significant),
        groups: out,
        grown_collections: crate::inspect::collections::grown(&[s1, s2, s3], crate::inspect::TOP),
    }
}

/// The objects of `class` on a retainer path of the shape `keys` in `h`.
fn members_of(shapes: &mut Shapes, h: &Heap, class: &str, keys: &[String]) -> Vec<u32> {
    match h.class_names.iter().position(|n| n == class) {
        Some(c) => shapes.members(c as u32, keys),
        None => Vec::new(),
    }
}
