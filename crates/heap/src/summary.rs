//! `heap summary`: totals, the biggest classes, and Eclipse MAT-style leak suspects (one
//! sentence each, with the accumulation point and its path from a root).

use crate::analysis::Heap;
use crate::fmt_bytes;
use crate::paths::{path_to, render, Step};
use serde::Serialize;

/// A suspect holds at least this share of the heap (MAT's default).
pub const SUSPECT_SHARE: f64 = 0.10;
/// The accumulation point is where no single child keeps this share of its parent.
const ACCUMULATION_SHARE: f64 = 0.80;

#[derive(Debug, Clone, Serialize)]
pub struct ClassRow {
    pub class: String,
    pub count: u64,
    pub self_bytes: u64,
    /// DevTools' class "retained size": instances nested under another instance count once.
    pub retained_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeRef {
    pub class: String,
    pub node_id: u64,
    pub retained_bytes: u64,
    pub path: String,
    pub path_steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    /// `object` (one object retains the share) or `class` (many instances together do).
    pub kind: &'static str,
    pub class: String,
    pub instances: u64,
    pub retained_bytes: u64,
    pub percent: f64,
    pub accumulation_point: Option<NodeRef>,
    pub sentence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub total_bytes: u64,
    pub node_count: u64,
    pub edge_count: u64,
    pub class_count: u64,
    pub top_by_retained: Vec<ClassRow>,
    pub top_by_self: Vec<ClassRow>,
    pub suspects: Vec<Suspect>,
}

/// Per-class count, self size and retained size, over nodes with a non-zero self size (as
/// DevTools' Summary view counts them).
pub fn class_table(h: &Heap) -> Vec<ClassRow> {
    let nc = h.class_names.len();
    let mut count = vec![0u64; nc];
    let mut selfb = vec![0u64; nc];
    for v in 0..h.node_count() {
        let s = h.self_size[v];
        if s == 0 {
            continue;
        }
        let c = h.class_of[v] as usize;
        count[c] += 1;
        selfb[c] += s;
    }
    let retained = class_retained(h);
    (0..nc)
        .filter(|&c| count[c] > 0)
        .map(|c| ClassRow {
            class: h.class_names[c].clone(),
            count: count[c],
            self_bytes: selfb[c],
            retained_bytes: retained[c],
        })
        .collect()
}

/// DevTools' `calculateClassesRetainedSize`: walk the dominator tree; an instance adds its
/// retained size unless an ancestor of the same class already did.
fn class_retained(h: &Heap) -> Vec<u64> {
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
        if !seen[c] && (h.self_size[v as usize] > 0 || h.graph.node_type[v as usize] == native) {
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

pub fn summary(h: &Heap, top: usize) -> Summary {
    let table = class_table(h);
    let total = h.total;
    let mut by_ret = table.clone();
    by_ret.sort_by(|a, b| {
        b.retained_bytes
            .cmp(&a.retained_bytes)
            .then(a.class.cmp(&b.class))
    });
    let mut by_self = table.clone();
    by_self.sort_by(|a, b| b.self_bytes.cmp(&a.self_bytes).then(a.class.cmp(&b.class)));
    let threshold = (total as f64 * SUSPECT_SHARE) as u64;
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
            kind: "object",
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
        .filter(|r| {
            r.retained_bytes >= threshold.max(1) && r.count >= 10 && !r.class.starts_with('(')
        })
        .collect();
    // Where do each candidate's instances hang? The dominator holding most of their bytes,
    // gathered for all candidates in one pass over the nodes.
    let mut slot = vec![usize::MAX; h.class_names.len()];
    for (i, row) in candidates.iter().enumerate() {
        if let Some(c) = h.class_names.iter().position(|c| *c == row.class) {
            slot[c] = i;
        }
    }
    let mut doms: Vec<rustc_hash::FxHashMap<u32, u64>> = vec![Default::default(); candidates.len()];
    let mut biggests = vec![0u64; candidates.len()];
    if !candidates.is_empty() {
        for v in 0..h.node_count() {
            let i = slot[h.class_of[v] as usize];
            if i != usize::MAX && h.self_size[v] > 0 {
                *doms[i].entry(h.idom[v]).or_default() += h.retained[v];
                biggests[i] = biggests[i].max(h.retained[v]);
            }
        }
    }
    for ((row, by_dom), biggest) in candidates.into_iter().zip(doms).zip(biggests) {
        // "Many instances together": when one instance holds half the class's bytes, that
        // object (already an object suspect) is the story, not its class.
        if biggest * 2 >= row.retained_bytes {
            continue;
        }
        let acc = by_dom
            .into_iter()
            .max_by_key(|&(d, b)| (b, std::cmp::Reverse(d)))
            .map(|(d, _)| d);
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
            kind: "class",
            class: row.class.clone(),
            instances: row.count,
            retained_bytes: row.retained_bytes,
            percent: pct(row.retained_bytes, total),
            accumulation_point: acc_ref,
            sentence,
        });
    }

    Summary {
        schema: "leakhound.heap.summary/v1",
        total_bytes: total,
        node_count: h.node_count() as u64,
        edge_count: h.graph.edge_count() as u64,
        class_count: table.len() as u64,
        top_by_retained: by_ret.into_iter().take(top).collect(),
        top_by_self: by_self.into_iter().take(top).collect(),
        suspects,
    }
}
