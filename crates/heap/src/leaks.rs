//! `heap leaks S1 S2 S3`: the three-snapshot technique. Objects allocated between S1 and S2
//! (JS ids present in S2 and absent from S1) that are still alive in S3 are leak candidates.
//! Only the topmost candidates in S3's dominator tree count (their retained sizes do not
//! overlap); they are grouped by class and by the shape of their retainer path, so the
//! thousands of entries of one growing cache become one finding with one path.
//!
//! One whole heap at a time: S1 is reduced to [`First`] (its JS ids, its collections' sizes and
//! how many objects of each class sit on each retainer-path shape) and closed, S2 to
//! [`Second`] (the ids new since S1) and closed, and only then is S3 opened. Three 1 GB heaps
//! held at once took 3.1× the largest file.

use crate::analysis::{Beside, Heap, Nodes, Tree};
use crate::app_path::{app_first, holder_index};
use crate::error::OpenError;
use crate::fmt_bytes;
use crate::graph::Graph;
use crate::id_index::IdIndex;
use crate::inspect::collections::{grown_since, CollectionSizes};
use crate::paths::{fold_runs, path_to, render};
use crate::shapes::{ShapeTable, Shapes};
use crate::timing::timing;
use rustc_hash::FxHashMap;
use std::path::Path;

/// A group is significant when it has at least this many objects...
pub const MIN_INSTANCES: u64 = 100;
/// ...and retains at least this share of the last snapshot's heap.
pub const MIN_SHARE: f64 = 0.01;
/// A group of fewer objects is significant when it retains at least this share of the last
/// snapshot's heap and grew by as much since the first: one
/// string that a handler appends to (`log += line`) is one object however much it holds, and
/// a new one each time (each `+=` makes a new rope over the old).
pub const MIN_GROWN_SHARE: f64 = 0.05;

pub use leakhound_schema::heap::{LeakGroup, LeaksReport};

/// The JS ids of `h` (2 bytes an id: see [`IdIndex`]).
fn ids(h: &Heap) -> IdIndex {
    IdIndex::set(h.node_count(), |v| {
        h.is_js_id(v).then(|| h.graph.node_id[v as usize])
    })
}

/// How many objects of each class sit on each retainer-path shape of a closed heap, and the
/// bytes they retain: what a group found in S3 is compared with in S1.
struct ShapeCounts {
    class_names: Vec<String>,
    table: ShapeTable,
    /// (class index, shape) -> (objects, retained bytes).
    counts: FxHashMap<(u32, u32), (u64, u64)>,
}

impl ShapeCounts {
    fn of(h: &Heap) -> ShapeCounts {
        let t0 = std::time::Instant::now();
        let mut shapes = Shapes::for_every_node(h);
        timing("leaks: S1 retainers", t0);
        let t0 = std::time::Instant::now();
        for v in 0..h.node_count() as u32 {
            crate::cancel::point(v as usize);
            shapes.of(v);
        }
        timing("leaks: S1 shapes", t0);
        let t0 = std::time::Instant::now();
        let (of_node, table) = shapes.into_parts();
        let mut counts: FxHashMap<(u32, u32), (u64, u64)> = FxHashMap::default();
        for (v, &shape) in of_node.iter().enumerate() {
            // The root keeps no shape of its own (as in `Shapes::members`).
            if shape == u32::MAX {
                continue;
            }
            let c = counts.entry((h.class_of[v], shape)).or_default();
            c.0 += 1;
            c.1 += h.retained[v];
        }
        timing("leaks: S1 shape counts", t0);
        ShapeCounts {
            class_names: h.class_names.clone(),
            table,
            counts,
        }
    }

    /// The objects of `class` on a retainer path of the shape `keys`, and the bytes they
    /// retain.
    fn members(&self, class: &str, keys: &[String]) -> (u64, u64) {
        let Some(c) = self.class_names.iter().position(|n| n == class) else {
            return (0, 0);
        };
        let Some(shape) = self.table.find(keys) else {
            return (0, 0);
        };
        self.counts
            .get(&(c as u32, shape))
            .copied()
            .unwrap_or_default()
    }
}

/// All `heap leaks` needs of S1.
pub struct First {
    total: u64,
    ids: IdIndex,
    collections: CollectionSizes,
    shapes: ShapeCounts,
}

impl First {
    pub fn of(s1: &Heap) -> First {
        let t0 = std::time::Instant::now();
        // The shapes are the long pass; the ids and collections take the other core.
        let ((ids, collections), shapes) = std::thread::scope(|sc| {
            let other = sc.spawn(|| (ids(s1), CollectionSizes::of(s1)));
            let shapes = ShapeCounts::of(s1);
            (other.join().expect("S1 ids and collections thread"), shapes)
        });
        let f = First {
            total: s1.total,
            ids,
            collections,
            shapes,
        };
        timing(
            &format!(
                "leaks: S1 reduced ({} ids, {} collections, {} shapes, {} class-shape counts)",
                f.ids.len(),
                f.collections.len(),
                f.shapes.table.len(),
                f.shapes.counts.len()
            ),
            t0,
        );
        f
    }

    /// S2's part: the JS ids allocated since S1.
    pub fn then(self, s2: &Heap) -> Second {
        let new = Marks::new_since(&self.ids).of(&s2.graph);
        self.then_with(s2, new)
    }

    /// [`First::then`] with S2's new nodes already marked ([`Marks::new_since`]).
    fn then_with(self, s2: &Heap, new: Vec<u64>) -> Second {
        let t0 = std::time::Instant::now();
        drop(self.ids);
        let (new_ids, collections2) = std::thread::scope(|sc| {
            let other = sc.spawn(|| CollectionSizes::of(s2));
            let new_ids = IdIndex::set(s2.node_count(), |v| {
                let v = v as usize;
                (new[v / 64] & (1 << (v % 64)) != 0).then(|| s2.graph.node_id[v])
            });
            (new_ids, other.join().expect("S2 collections thread"))
        });
        let s = Second {
            totals: [self.total, s2.total],
            new_ids,
            collections: [self.collections, collections2],
            shapes1: self.shapes,
        };
        timing(
            &format!("leaks: S2 reduced ({} new ids)", s.new_ids.len()),
            t0,
        );
        s
    }
}

/// Work for the core the analysis leaves free while it finds the dominators: a bit for each
/// node whose JS id `ids` picks (S2's nodes new since S1; S3's leak candidates, the nodes
/// among those still alive).
struct Marks<'a> {
    ids: &'a IdIndex,
    /// Whether a node is marked when its id is in `ids` (S3) or when it is not (S2).
    present: bool,
}

impl<'a> Marks<'a> {
    /// S2's nodes whose JS ids S1 (`ids`) did not have.
    fn new_since(ids: &'a IdIndex) -> Self {
        Marks {
            ids,
            present: false,
        }
    }

    /// S3's leak candidates: the nodes whose JS ids are among S2's new ones (`ids`).
    fn among(ids: &'a IdIndex) -> Self {
        Marks { ids, present: true }
    }

    /// One bit a node of `g`, set for the JS objects (odd ids) marked.
    fn of(&self, g: &Graph) -> Vec<u64> {
        let t0 = std::time::Instant::now();
        let mut bits = vec![0u64; g.node_count().div_ceil(64)];
        for v in 0..g.node_count() {
            crate::cancel::point(v);
            let id = g.node_id[v];
            if id % 2 == 1 && self.ids.contains(id) == self.present {
                bits[v / 64] |= 1 << (v % 64);
            }
        }
        timing("leaks: marks", t0);
        bits
    }
}

impl Beside for Marks<'_> {
    type Early = Vec<u64>;
    type Out = Vec<u64>;
    fn early(&self, n: &Nodes<'_>) -> Vec<u64> {
        self.of(n.graph)
    }
    fn late(&self, early: Vec<u64>, _: &Tree<'_>) -> Vec<u64> {
        early
    }
}

/// All `heap leaks` needs of S1 and S2.
pub struct Second {
    totals: [u64; 2],
    /// JS ids present in S2 and absent from S1.
    new_ids: IdIndex,
    collections: [CollectionSizes; 2],
    shapes1: ShapeCounts,
}

/// Nodes V8 allocates for its own bookkeeping; they are never reported as the leaking class.
pub(crate) fn internal(h: &Heap, v: u32) -> bool {
    let ty = h.graph.node_type[v as usize];
    ty == h.t.hidden || ty == h.t.array || ty == h.t.synthetic || ty == h.t.code
}

/// Each node's first dominator that is not V8's bookkeeping ([`internal`]), memoised. V8 keeps
/// a pending promise's reactions as a linked list of internal `PromiseReaction` records, each
/// dominating the older ones: the closures of 40,000 `ready.then(...)` calls sit under chains
/// of up to 40,000 internal hops. A bounded walk (it once stopped after 64 hops) lands on
/// another reaction, a candidate itself, and drops all but the newest 64 closures, so the
/// leak never made a group big enough to count; the memo keeps the full walk linear.
///
/// The memo holds only the internal nodes of the chains walked (a map, not 4 bytes a node:
/// it is allocated while the last snapshot is open, at the command's peak memory).
pub(crate) struct FirstObjectAbove<'h> {
    h: &'h Heap,
    memo: FxHashMap<u32, u32>,
}

impl<'h> FirstObjectAbove<'h> {
    pub(crate) fn new(h: &'h Heap) -> Self {
        FirstObjectAbove {
            h,
            memo: FxHashMap::default(),
        }
    }

    /// The first dominator of `v` that is the root or not internal.
    pub(crate) fn of(&mut self, v: u32) -> u32 {
        let h = self.h;
        let mut chain = Vec::new();
        let mut d = h.idom[v as usize];
        let found = loop {
            if d == h.graph.root || !internal(h, d) {
                break d;
            }
            if let Some(&known) = self.memo.get(&d) {
                break known;
            }
            chain.push(d);
            let up = h.idom[d as usize];
            if up == d {
                break h.graph.root;
            }
            d = up;
        };
        for c in chain {
            self.memo.insert(c, found);
        }
        found
    }
}

pub fn leaks(s1: &Heap, s2: &Heap, s3: &Heap) -> LeaksReport {
    leaks_since(First::of(s1).then(s2), s3)
}

/// [`leaks`] of three snapshot files, one whole heap at a time: each earlier one is reduced
/// to what the later steps need and closed (its freed memory returned to the system) before
/// the next is opened, and S2, which gives only ids and retained sizes, is opened without
/// the distances ([`Heap::open_without_paths`]). `err` names a file that could not be read.
pub fn leaks_of_files<E>(
    [s1, s2, s3]: [&Path; 3],
    err: impl Fn(&Path, OpenError) -> E,
) -> Result<LeaksReport, E> {
    let first = First::of(&Heap::open(s1).map_err(|e| err(s1, e))?);
    crate::release::return_freed_memory();
    let (h2, new) =
        Heap::open_without_paths_with(s2, &Marks::new_since(&first.ids)).map_err(|e| err(s2, e))?;
    let second = first.then_with(&h2, new);
    drop(h2);
    crate::release::return_freed_memory();
    let (s3h, cand) =
        Heap::open_with(s3, &Marks::among(&second.new_ids)).map_err(|e| err(s3, e))?;
    Ok(leaks_since_with(second, &s3h, cand))
}

/// [`leaks`] with S1 and S2 already reduced to their [`Second`].
pub fn leaks_since(earlier: Second, s3: &Heap) -> LeaksReport {
    let cand = Marks::among(&earlier.new_ids).of(&s3.graph);
    leaks_since_with(earlier, s3, cand)
}

/// [`leaks_since`] with S3's leak candidates already marked (one bit a node: new since S1 and
/// alive in S2, and alive in S3).
fn leaks_since_with(earlier: Second, s3: &Heap, cand: Vec<u64>) -> LeaksReport {
    let Second {
        totals: [total1, total2],
        new_ids,
        collections,
        shapes1,
    } = earlier;
    drop(new_ids);
    let t0 = std::time::Instant::now();
    // The collections that grew need only S3 and the collection sizes: on the other core.
    let before = &collections;
    let (grown, (leaked_objects, leaked_retained, out)) = std::thread::scope(|sc| {
        let grown = sc.spawn(move || grown_since(before, s3, crate::inspect::TOP));
        let groups = groups_in(&cand, shapes1, s3);
        (grown.join().expect("grown collections thread"), groups)
    });
    timing("leaks: S3 grouped", t0);
    LeaksReport {
        schema: leakhound_schema::heap::LEAKS_SCHEMA.into(),
        totals: [total1, total2, s3.total],
        leaked_objects,
        leaked_retained_bytes: leaked_retained,
        significant: out.iter().any(|g| g.significant),
        groups: out,
        grown_collections: grown,
    }
}

/// The leaked objects of S3 (new since S1 and alive in S2 and S3) grouped: how many, the
/// bytes the topmost retain, and the groups, biggest first.
fn groups_in(bits: &[u64], shapes1: ShapeCounts, s3: &Heap) -> (u64, u64, Vec<LeakGroup>) {
    let n = s3.node_count();
    let cand = |v: u32| bits[v as usize / 64] & (1 << (v % 64)) != 0;
    let leaked_objects = bits.iter().map(|w| u64::from(w.count_ones())).sum();
    let t0 = std::time::Instant::now();

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
        if !cand(v) || internal(s3, v) {
            continue;
        }
        // Topmost: the first non-internal dominator above is not itself a candidate.
        let d = above.of(v);
        if cand(d) && d != v {
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
    timing("leaks: S3 topmost candidates by shape", t0);
    let t0 = std::time::Instant::now();
    let total = s3.total.max(1);
    // Only groups big enough to matter need their population counted.
    let mut accs: Vec<Acc> = groups.into_values().collect();
    accs.sort_by_key(|a| std::cmp::Reverse(a.retained));
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
                let (before, was) = shapes1.members(&a.class, &keys);
                population = [before, population_of(&mut shapes3, s3, &a.class, &keys)];
                significant &= population[1].saturating_sub(population[0]) * 2 >= a.instances;
                if one_big {
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
    timing("leaks: S3 groups' paths and populations", t0);
    (leaked_objects, leaked_retained, out)
}

/// Whether the few objects on one path that retain `now` bytes grew from the `was` bytes the
/// objects on that path retained in the first snapshot by at least [`MIN_GROWN_SHARE`] of the
/// last snapshot's heap (`total`). (A ratio misses a string that warm-up had already made
/// long.)
pub(crate) fn grew_in_place(was: u64, now: u64, total: u64) -> bool {
    now.saturating_sub(was) as f64 >= MIN_GROWN_SHARE * total as f64
}

/// How many objects of `class` sit on a retainer path of the shape `keys` in `h`.
pub(crate) fn population_of(shapes: &mut Shapes, h: &Heap, class: &str, keys: &[String]) -> u64 {
    match h.class_names.iter().position(|n| n == class) {
        Some(c) => shapes.population(c as u32, keys),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testheap::heap as snapshot_sized;

    /// `ready`, a pending promise in a module scope, and the reactions of `n` `ready.then(f)`
    /// calls: V8's internal records in a linked list, newest first, each holding its closure.
    fn pending_promise(n: usize) -> Heap {
        let mut nodes = vec![
            ("synthetic", "", 0),
            ("synthetic", "(GC roots)", 0),
            ("object", "system / Context", 32),
            ("object", "Promise", 32),
        ];
        let mut edges = vec![
            (0, "element", "1", 1),
            (1, "element", "1", 2),
            (2, "context", "ready", 3),
        ];
        for i in 0..n {
            let reaction = nodes.len();
            nodes.push(("hidden", "system / PromiseReaction", 40));
            nodes.push(("closure", "", 64));
            edges.push((reaction, "internal", "fulfill_handler", reaction + 1));
            if i == 0 {
                continue;
            }
            // The newer reaction points at the older one.
            edges.push((reaction, "internal", "next", reaction - 2));
        }
        if n > 0 {
            edges.push((3, "internal", "reactions_or_result", nodes.len() - 2));
        }
        snapshot_sized(&nodes, &edges)
    }

    #[test]
    fn closures_under_a_long_chain_of_promise_reactions_are_one_group() {
        // Reactions in S1: none; in S2 and S3: 300 (their ids, built from one node list, match).
        let (s1, s2, s3) = (
            pending_promise(0),
            pending_promise(300),
            pending_promise(300),
        );
        let r = leaks(&s1, &s2, &s3);
        // Every closure, not only the 64 nearest the promise (the newest one, right under the
        // promise, has a path of its own).
        let closures: u64 = r
            .groups
            .iter()
            .filter(|g| g.class == "Function")
            .map(|g| g.instances)
            .sum();
        assert_eq!(closures, 300, "{:?}", r.groups);
        let g = &r.groups[0];
        assert_eq!((g.class.as_str(), g.instances), ("Function", 299));
        assert!(g.significant, "{g:?}");
        assert_eq!(g.holder.as_deref(), Some("ready (Promise)"));
        assert!(r.significant);
    }

    /// A module scope's `log`: a rope (a concatenated string) of `bytes` over the first
    /// snapshot's string.
    fn log_string(bytes: Option<u64>) -> Heap {
        let mut nodes = vec![
            ("synthetic", "", 0),
            ("synthetic", "(GC roots)", 0),
            ("object", "system / Context", 32),
            ("concatenated string", "old", 200),
            ("object", "Object", 400),
        ];
        let mut edges = vec![
            (0, "element", "1", 1),
            (1, "element", "1", 2),
            (2, "context", "other", 4),
        ];
        match bytes {
            None => edges.push((2, "context", "log", 3)),
            Some(b) => {
                nodes.push(("concatenated string", "new", b));
                edges.push((2, "context", "log", 5));
                edges.push((5, "internal", "first", 3));
            }
        }
        snapshot_sized(&nodes, &edges)
    }

    #[test]
    fn one_string_that_grew_in_place_is_significant() {
        let (s1, s2) = (log_string(None), log_string(Some(5000)));
        let r = leaks(&s1, &s2, &log_string(Some(5000)));
        let g = &r.groups[0];
        assert_eq!(
            (g.class.as_str(), g.instances),
            ("(concatenated string)", 1)
        );
        assert!(g.significant, "{g:?}");
        assert!(
            g.path.ends_with("log ((concatenated string))"),
            "{}",
            g.path
        );
        // The same big string that was already that big in S1: not a leak.
        let r = leaks(&log_string(Some(5000)), &s2, &log_string(Some(5000)));
        assert!(!r.significant, "{:?}", r.groups);
        // A new string that holds little: not a leak either.
        let r = leaks(&s1, &log_string(Some(20)), &log_string(Some(20)));
        assert!(!r.significant, "{:?}", r.groups);
        assert!(grew_in_place(100, 200, 1000) && !grew_in_place(100, 140, 1000));
    }
}
