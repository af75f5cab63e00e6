//! `heap summary`: totals, the biggest classes, and Eclipse MAT-style leak suspects (one
//! sentence each, with the accumulation point and its path from a root).

use crate::analysis::{Heap, Nodes, Tree};
use crate::fmt_bytes;
use crate::holders::Holders;
use crate::paths::{path_to, render, Step};
use leakhound_schema::heap::{DuplicatedStrings, EmitterListeners};
use rustc_hash::FxHashMap;

/// A suspect holds at least this share of the heap (MAT's default).
pub const SUSPECT_SHARE: f64 = 0.10;
/// The accumulation point is where no single child keeps this share of its parent.
const ACCUMULATION_SHARE: f64 = 0.80;

pub use leakhound_schema::heap::{ClassRow, HeapSummary as Summary, NodeRef, Suspect, SuspectKind};

/// Per-class count, self size and retained size, over nodes with a non-zero self size (as
/// DevTools' Summary view counts them).
pub fn class_table(h: &Heap) -> Vec<ClassRow> {
    class_rows(&h.tree())
}

/// [`class_table`] on the dominator tree alone (no distances needed).
fn class_rows(h: &Tree<'_>) -> Vec<ClassRow> {
    class_rows_with(h, ClassCounts::of(&h.nodes()))
}

/// Each class's instance count and self size: what the class table needs that does not
/// wait for the dominator tree, so [`ForSummary`] counts it on the core the dominator pass
/// leaves idle.
pub struct ClassCounts {
    count: Vec<u64>,
    self_bytes: Vec<u64>,
}

impl ClassCounts {
    /// Over nodes with a non-zero self size, as DevTools' Summary view counts them.
    fn of(h: &Nodes<'_>) -> ClassCounts {
        let nc = h.class_names.len();
        let mut count = vec![0u64; nc];
        let mut self_bytes = vec![0u64; nc];
        for v in 0..h.node_count() {
            let s = h.self_size.get(v);
            if s == 0 {
                continue;
            }
            let c = h.class_of[v] as usize;
            count[c] += 1;
            self_bytes[c] += s;
        }
        ClassCounts { count, self_bytes }
    }
}

/// [`class_rows`] with the counts made already.
fn class_rows_with(h: &Tree<'_>, counts: ClassCounts) -> Vec<ClassRow> {
    let ClassCounts { count, self_bytes } = counts;
    let retained = class_retained(h);
    (0..h.class_names.len())
        .filter(|&c| count[c] > 0)
        .map(|c| ClassRow {
            class: h.class_names[c].clone(),
            count: count[c],
            self_bytes: self_bytes[c],
            retained_bytes: retained[c],
        })
        .collect()
}

/// DevTools' `calculateClassesRetainedSize`: walk the dominator tree; an instance adds its
/// retained size unless an ancestor of the same class already did.
fn class_retained(h: &Tree<'_>) -> Vec<u64> {
    let nc = h.class_names.len();
    let mut out = vec![0u64; nc];
    let mut seen = vec![false; nc];
    let native = h.t.native;
    let root = h.graph.root;
    // One frame per tree level (not one entry per pending child): the stack stays as deep
    // as the tree, where a stack of children grew to millions of entries on big snapshots.
    struct Frame {
        v: u32,
        next: u32,
        end: u32,
        marked: bool,
    }
    let span = |v: u32| (h.dom_first[v as usize], h.dom_first[v as usize + 1]);
    let (next, end) = span(root);
    let mut stack = vec![Frame {
        v: root,
        next,
        end,
        marked: false,
    }];
    while let Some(top) = stack.last_mut() {
        if top.next == top.end {
            let f = stack.pop().expect("a frame");
            if f.marked {
                seen[h.class_of[f.v as usize] as usize] = false;
            }
            continue;
        }
        let v = h.dom_children[top.next as usize];
        top.next += 1;
        let c = h.class_of[v as usize] as usize;
        let (next, end) = span(v);
        let mut marked = false;
        if !seen[c] && (h.self_size.get(v as usize) > 0 || h.graph.node_type[v as usize] == native)
        {
            out[c] += h.retained[v as usize];
            if next != end {
                seen[c] = true;
                marked = true;
            }
        }
        if next != end {
            stack.push(Frame {
                v,
                next,
                end,
                marked,
            });
        }
    }
    out
}

fn node_ref(h: &Heap, v: u32) -> NodeRef {
    let steps = path_to(h, v);
    NodeRef {
        class: h.class_name(v).to_string(),
        node_id: u64::from(h.graph.node_id[v as usize]),
        retained_bytes: h.retained[v as usize],
        path: render(&steps),
        path_steps: steps,
    }
}

/// Descend the dominator tree while one child keeps most of the parent's retained size.
pub fn accumulation_point(h: &Heap, mut v: u32) -> u32 {
    loop {
        let best = h
            .children(v)
            .iter()
            .copied()
            .max_by_key(|&k| h.retained[k as usize]);
        match best {
            Some(k)
                if h.retained[k as usize] as f64
                    >= ACCUMULATION_SHARE * h.retained[v as usize] as f64
                    && h.retained[k as usize] > 0 =>
            {
                v = k
            }
            _ => return v,
        }
    }
}

fn pct(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / total as f64).round() / 10.0
    }
}

/// The "named" holder on a path: the last property or variable name before the end, which is
/// what a user recognises (`responseCache`).
fn holder_name(steps: &[Step]) -> Option<String> {
    steps
        .iter()
        .rev()
        .find(|s| {
            matches!(s.edge_type.as_str(), "property" | "context") && !s.class.starts_with('(')
        })
        .map(|s| format!("{} ({})", s.edge, s.class))
}

fn is_class_candidate(class: &str, count: u64, bytes: u64, threshold: u64) -> bool {
    bytes >= threshold.max(1) && count >= 10 && !class.starts_with('(')
}

/// For every class that may be a class suspect, the dominator holding most of its
/// instances' bytes and the biggest single instance. "May be": the sum of the instances'
/// retained sizes bounds the class's retained size from above (nested instances count
/// twice), so every real candidate is in the set.
fn holders_by_class(h: &Tree<'_>, threshold: u64) -> Holders {
    let nc = h.class_names.len();
    let mut count = vec![0u64; nc];
    let mut bound = vec![0u64; nc];
    let native = h.t.native;
    for v in 0..h.node_count() {
        crate::cancel::point(v);
        let c = h.class_of[v] as usize;
        let selfb = h.self_size.get(v);
        if selfb > 0 {
            count[c] += 1;
        }
        if selfb > 0 || h.graph.node_type[v] == native {
            bound[c] = bound[c].saturating_add(h.retained[v]);
        }
    }
    let classes: Vec<usize> = (0..nc)
        .filter(|&c| is_class_candidate(&h.class_names[c], count[c], bound[c], threshold))
        .collect();
    crate::holders::holders(h, &classes)
}

/// [`holders_by_class`] once the class table is known: only the real candidates.
/// On one core: it runs beside the distance BFS.
fn holders_from_table(h: &Tree<'_>, table: &[ClassRow], threshold: u64) -> Holders {
    let id: FxHashMap<&str, usize> = h
        .class_names
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let classes: Vec<usize> = table
        .iter()
        .filter(|r| is_class_candidate(&r.class, r.count, r.retained_bytes, threshold))
        .filter_map(|r| id.get(r.class.as_str()).copied())
        .collect();
    crate::holders::holders_on_one_core(h, &classes)
}

/// The part of a summary that needs the dominator tree but no retainer paths: the class
/// table, where each candidate class's instances hang, and the inspections' path-free part.
/// Made by [`ForSummary`] beside the analysis ([`Heap::open_with`]).
pub struct ClassStats {
    table: Vec<ClassRow>,
    holders: Holders,
    /// The inspections' part that needs no retainer path.
    inspections: crate::inspect::PathFree,
}

/// What `heap summary` runs beside the analysis ([`Heap::open_with`]): the inspections'
/// path-free part and the class counts beside the dominator pass, the rest of the class
/// table and the holders beside the BFS.
pub struct ForSummary;

impl crate::analysis::Beside for ForSummary {
    type Early = (crate::inspect::PathFree, ClassCounts);
    type Out = ClassStats;
    fn early(&self, n: &Nodes<'_>) -> Self::Early {
        (crate::inspect::path_free(n), ClassCounts::of(n))
    }
    fn late(&self, (inspections, counts): Self::Early, h: &Tree<'_>) -> ClassStats {
        let table = class_rows_with(h, counts);
        let t0 = std::time::Instant::now();
        let holders = holders_from_table(h, &table, suspect_threshold(h.total));
        crate::timing::timing("class holders", t0);
        ClassStats {
            table,
            holders,
            inspections,
        }
    }
}

fn suspect_threshold(total: u64) -> u64 {
    (total as f64 * SUSPECT_SHARE) as u64
}

pub fn summary(h: &Heap, top: usize) -> Summary {
    // The class table needs a walk of the whole dominator tree; finding where each class's
    // instances hang needs a pass over all nodes. Neither waits for the other when the
    // second one covers every class that *could* be a class suspect: one core each.
    let tree = h.tree();
    let (table, holders) = std::thread::scope(|sc| {
        let t = sc.spawn(|| class_rows(&tree));
        let holders = holders_by_class(&tree, suspect_threshold(h.total));
        (t.join().expect("class-table thread"), holders)
    });
    summary_of(h, top, table, holders, crate::inspect::for_summary(h))
}

/// [`summary`] with its [`ClassStats`] made already (by [`ForSummary`] on this heap).
pub fn summary_with(h: &Heap, top: usize, stats: ClassStats) -> Summary {
    let inspections = crate::inspect::finish(h, stats.inspections);
    summary_of(h, top, stats.table, stats.holders, inspections)
}

/// The inspections' results: duplicated strings and listeners per emitter.
type Inspections = (Option<DuplicatedStrings>, Vec<EmitterListeners>);

fn summary_of(
    h: &Heap,
    top: usize,
    table: Vec<ClassRow>,
    holders: Holders,
    inspections: Inspections,
) -> Summary {
    let total = h.total;
    let threshold = suspect_threshold(total);
    let mut by_ret = table.clone();
    by_ret.sort_by(|a, b| {
        b.retained_bytes
            .cmp(&a.retained_bytes)
            .then(a.class.cmp(&b.class))
    });
    let mut by_self = table.clone();
    by_self.sort_by(|a, b| b.self_bytes.cmp(&a.self_bytes).then(a.class.cmp(&b.class)));
    let mut suspects = Vec::new();

    // Object suspects: the first non-synthetic nodes below the root in the dominator tree.
    let mut frontier = vec![h.graph.root];
    let mut tops = Vec::new();
    while let Some(v) = frontier.pop() {
        for &k in h.children(v) {
            if h.retained[k as usize] < threshold.max(1) {
                continue;
            }
            if h.graph.node_type[k as usize] == h.t.synthetic {
                frontier.push(k);
            } else {
                tops.push(k);
            }
        }
    }
    tops.sort_by(|a, b| h.retained[*b as usize].cmp(&h.retained[*a as usize]));
    for v in tops {
        let r = h.retained[v as usize];
        let acc = accumulation_point(h, v);
        let acc_ref = node_ref(h, acc);
        let held = holder_name(&acc_ref.path_steps)
            .map(|n| format!(", held as {n}"))
            .unwrap_or_default();
        let sentence = format!(
            "One {} object (@{}) retains {} ({}% of the heap); the memory accumulates in {} @{} ({}){}, reached by {}.",
            h.class_name(v),
            u64::from(h.graph.node_id[v as usize]),
            fmt_bytes(r),
            pct(r, total),
            acc_ref.class,
            acc_ref.node_id,
            fmt_bytes(acc_ref.retained_bytes),
            held,
            acc_ref.path
        );
        suspects.push(Suspect {
            kind: SuspectKind::Object,
            class: h.class_name(v).to_string(),
            instances: 1,
            retained_bytes: r,
            percent: pct(r, total),
            accumulation_point: Some(acc_ref),
            sentence,
        });
    }

    // Class suspects: many instances that together retain the share.
    let candidates: Vec<&ClassRow> = by_ret
        .iter()
        .filter(|r| is_class_candidate(&r.class, r.count, r.retained_bytes, threshold))
        .collect();
    let class_id: FxHashMap<&str, usize> = h
        .class_names
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    for row in candidates {
        let acc = class_id
            .get(row.class.as_str())
            .and_then(|&c| holders.get(&c))
            .copied();
        // Every candidate is in the holder set (its bound is at least its retained size).
        debug_assert!(acc.is_some(), "{} missing from the holder set", row.class);
        let (acc, biggest) = acc.unwrap_or((None, 0));
        // "Many instances together": when one instance holds half the class's bytes, that
        // object (already an object suspect) is the story, not its class.
        if biggest * 2 >= row.retained_bytes {
            continue;
        }
        let acc_ref = acc.map(|a| node_ref(h, a));
        let where_ = match &acc_ref {
            Some(a) => {
                let held = holder_name(&a.path_steps)
                    .map(|n| format!(", held as {n}"))
                    .unwrap_or_default();
                format!(
                    "; most are held by {} @{}{}, reached by {}",
                    a.class, a.node_id, held, a.path
                )
            }
            None => String::new(),
        };
        let sentence = format!(
            "{} instances of {} retain {} ({}% of the heap){}.",
            row.count,
            row.class,
            fmt_bytes(row.retained_bytes),
            pct(row.retained_bytes, total),
            where_
        );
        suspects.push(Suspect {
            kind: SuspectKind::Class,
            class: row.class.clone(),
            instances: row.count,
            retained_bytes: row.retained_bytes,
            percent: pct(row.retained_bytes, total),
            accumulation_point: acc_ref,
            sentence,
        });
    }

    let (duplicated_strings, listeners) = inspections;
    Summary {
        schema: leakhound_schema::heap::SUMMARY_SCHEMA.into(),
        total_bytes: total,
        node_count: h.node_count() as u64,
        edge_count: h.graph.edge_count() as u64,
        class_count: table.len() as u64,
        top_by_retained: by_ret.into_iter().take(top).collect(),
        top_by_self: by_self.into_iter().take(top).collect(),
        suspects,
        duplicated_strings,
        listeners,
    }
}
