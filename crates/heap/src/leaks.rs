//! `heap leaks S1 S2 S3`: the three-snapshot technique. Objects allocated between S1 and S2
//! (JS ids present in S2 and absent from S1) that are still alive in S3 are leak candidates.
//! Only the topmost candidates in S3's dominator tree count (their retained sizes do not
//! overlap); they are grouped by class and by the shape of their retainer path, so the
//! thousands of entries of one growing cache become one finding with one path.

use crate::analysis::Heap;
use crate::app_path::{app_first, holder_index};
use crate::fmt_bytes;
use crate::paths::{fold_runs, path_to, render};
use crate::shapes::Shapes;
use rustc_hash::{FxHashMap, FxHashSet};

/// A group is significant when it has at least this many objects...
pub const MIN_INSTANCES: u64 = 100;
/// ...and retains at least this share of the last snapshot's heap.
pub const MIN_SHARE: f64 = 0.01;

pub use leakhound_schema::heap::{LeakGroup, LeaksReport};

fn ids(h: &Heap) -> FxHashSet<u64> {
    (0..h.node_count() as u32)
        .filter(|&v| h.is_js_id(v))
        .map(|v| u64::from(h.graph.node_id[v as usize]))
        .collect()
}

/// Nodes V8 allocates for its own bookkeeping; they are never reported as the leaking class.
fn internal(h: &Heap, v: u32) -> bool {
    let ty = h.graph.node_type[v as usize];
    ty == h.t.hidden || ty == h.t.array || ty == h.t.synthetic || ty == h.t.code
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
    let mut groups: FxHashMap<(u32, u32), Acc> = FxHashMap::default();
    let mut leaked_retained = 0u64;
    for v in 0..n as u32 {
        crate::cancel::point(v as usize);
        if !cand[v as usize] || internal(s3, v) {
            continue;
        }
        // Topmost: the first non-internal dominator above is not itself a candidate.
        let mut d = s3.idom[v as usize];
        let mut hops = 0;
        while d != s3.graph.root && internal(s3, d) && hops < 64 {
            d = s3.idom[d as usize];
            hops += 1;
        }
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
        a.selfb += s3.self_size[v as usize];
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
            let mut population = [0, 0];
            if significant || rank < 3 {
                let keys = shapes3.keys_of(a.example);
                population = [
                    population_of(&mut shapes1, s1, &a.class, &keys),
                    population_of(&mut shapes3, s3, &a.class, &keys),
                ];
                significant &= population[1].saturating_sub(population[0]) * 2 >= a.instances;
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

/// How many objects of `class` sit on a retainer path of the shape `keys` in `h`.
fn population_of(shapes: &mut Shapes, h: &Heap, class: &str, keys: &[String]) -> u64 {
    match h.class_names.iter().position(|n| n == class) {
        Some(c) => shapes.population(c as u32, keys),
        None => 0,
    }
}
