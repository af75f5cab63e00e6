//! Where each candidate class's instances hang: per class, the dominator whose children of
//! that class retain the most bytes together (the "accumulation point" of a class suspect),
//! and the class's biggest single instance.
//!
//! The dominator tree's child lists already group the nodes by dominator, so one walk over
//! them sums each class's bytes per dominator in a small per-class array, with no map from
//! dominators to sums. The maps this replaced (one entry per run of instances under one
//! dominator) were the slowest part of `heap summary` on a real 2.2 GB snapshot, about a
//! second, and 85 MB at the peak. The walk is split between the two cores by ranges of
//! dominators; the halves' results merge in dominator order, which keeps the tie rule.

use std::ops::Range;

use rustc_hash::FxHashMap;

use crate::analysis::Tree;

/// For each class asked about: the dominator holding most of its instances' bytes (the
/// lowest-numbered one on a tie; none when no instance has a size), and its biggest
/// instance's retained size. Instances of size zero are not counted.
pub type Holders = FxHashMap<usize, (Option<u32>, u64)>;

/// Below this many nodes one thread does it all.
const MIN_NODES: usize = 1 << 20;

/// [`Holders`] of `classes` (class indices of `h`).
pub fn holders(h: &Tree<'_>, classes: &[usize]) -> Holders {
    holders_split_from(h, classes, MIN_NODES)
}

/// [`holders`] on the calling thread only (when the other core is busy already).
pub fn holders_on_one_core(h: &Tree<'_>, classes: &[usize]) -> Holders {
    holders_split_from(h, classes, usize::MAX)
}

/// [`holders`], on two threads from `min_nodes` nodes up (tests split tiny heaps).
fn holders_split_from(h: &Tree<'_>, classes: &[usize], min_nodes: usize) -> Holders {
    let n = h.node_count();
    let mut slot = vec![NONE; h.class_names.len()];
    for (i, &c) in classes.iter().enumerate() {
        slot[c] = i as u32;
    }
    let walk = |doms: Range<usize>| Part::walk(h, &slot, classes.len(), doms);
    let parts = if n < min_nodes || classes.is_empty() {
        vec![walk(0..n)]
    } else {
        // Split where half of the child-list entries lie on each side.
        let total = h.dom_first[n] as usize;
        let mid = h.dom_first[..n].partition_point(|&f| (f as usize) < total / 2);
        std::thread::scope(|sc| {
            let second = sc.spawn(|| walk(mid..n));
            let first = walk(0..mid);
            vec![first, second.join().expect("class-holder thread")]
        })
    };
    let mut best: Vec<(u64, Option<u32>)> = vec![(0, None); classes.len()];
    let mut biggest = vec![0u64; classes.len()];
    // In dominator order: a later part wins only with strictly more bytes.
    for p in parts {
        for i in 0..classes.len() {
            if p.best[i].1.is_some() && p.best[i].0 > best[i].0 {
                best[i] = p.best[i];
            }
            biggest[i] = biggest[i].max(p.biggest[i]);
        }
    }
    classes
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, (best[i].1, biggest[i])))
        .collect()
}

/// "Not a class asked about" in the class-to-slot table.
const NONE: u32 = u32::MAX;

/// One range of dominators' result.
struct Part {
    best: Vec<(u64, Option<u32>)>,
    biggest: Vec<u64>,
}

impl Part {
    fn walk(h: &Tree<'_>, slot: &[u32], len: usize, doms: Range<usize>) -> Part {
        let root = h.graph.root as usize;
        let mut sum = vec![0u64; len];
        let mut touched: Vec<u32> = Vec::new();
        let mut best: Vec<(u64, Option<u32>)> = vec![(0, None); len];
        let mut biggest = vec![0u64; len];
        for d in doms {
            crate::cancel::point(d);
            // The root is its own dominator: it counts under itself, as every other node
            // counts under its dominator.
            let own = if d == root { Some(d as u32) } else { None };
            for &v in h.children(d as u32).iter().chain(own.iter()) {
                let i = slot[h.class_of[v as usize] as usize];
                if i == NONE || h.self_size.get(v as usize) == 0 {
                    continue;
                }
                let i = i as usize;
                // Retained sizes include the node's own size, so a touched sum is non-zero.
                let r = h.retained[v as usize];
                if sum[i] == 0 {
                    touched.push(i as u32);
                }
                sum[i] += r;
                biggest[i] = biggest[i].max(r);
            }
            for &i in &touched {
                let i = i as usize;
                if sum[i] > best[i].0 {
                    best[i] = (sum[i], Some(d as u32));
                }
                sum[i] = 0;
            }
            touched.clear();
        }
        Part { best, biggest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// On random heaps, split or not, the holders are the ones a map from (class,
    /// dominator) to bytes gives: most bytes, the lowest dominator on a tie.
    #[test]
    fn holders_are_the_dominators_holding_most_of_each_class() {
        let mut ties = 0;
        for seed in 1..80u64 {
            let mut rng = crate::test_rng::Rng::new(seed);
            let mut next = |k: u64| rng.below(k);
            let n = 2 + next(400) as usize;
            let mut nodes = String::new();
            let mut edges = String::new();
            let mut m = 0;
            // Odd seeds: random graphs. Even seeds: a 3-ary tree of equal sizes, where many
            // dominators hold equal bytes of a class (ties).
            let tree_shape = seed % 2 == 0;
            for i in 0..n {
                let targets: Vec<u64> = if tree_shape {
                    (3 * i + 1..(3 * i + 4).min(n)).map(|t| t as u64).collect()
                } else {
                    let deg = if i == 0 { 3 } else { next(4) };
                    (0..deg).map(|_| next(n as u64)).collect()
                };
                let size = if tree_shape { 8 } else { next(60) };
                let name = 1 + next(4);
                nodes += &format!(
                    "{}{},{name},{},{size},{},0,0",
                    if i > 0 { "," } else { "" },
                    u64::from(i == 0),
                    2 * i + 1,
                    targets.len()
                );
                for to in targets {
                    edges += &format!("{}2,0,{}", if m > 0 { "," } else { "" }, to * 7);
                    m += 1;
                }
            }
            let text = format!(
                r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["object","synthetic"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property"],"string_or_number","node"]}},"node_count":{n},"edge_count":{m}}},"nodes":[{nodes}],"edges":[{edges}],"strings":["","A","B","C","D"]}}"#
            );
            let g = crate::parse::parse(text.as_bytes()).expect("the test snapshot parses");
            let h = crate::Heap::from_graph(g);
            let tree = h.tree();
            let classes: Vec<usize> = (0..h.class_names.len()).collect();
            // The oracle: bytes per (class, dominator) in a map.
            let mut bytes: BTreeMap<(usize, u32), u64> = BTreeMap::new();
            let mut want_big: BTreeMap<usize, u64> = BTreeMap::new();
            for v in 0..h.node_count() {
                if h.self_size.get(v) == 0 {
                    continue;
                }
                let c = h.class_of[v] as usize;
                *bytes.entry((c, h.idom[v])).or_default() += h.retained[v];
                let b = want_big.entry(c).or_default();
                *b = (*b).max(h.retained[v]);
            }
            for (split, min) in [("one thread", usize::MAX), ("split", 0)] {
                let got = holders_split_from(&tree, &classes, min);
                for &c in &classes {
                    let mine: Vec<(u32, u64)> = bytes
                        .iter()
                        .filter(|((k, _), _)| *k == c)
                        .map(|((_, d), &b)| (*d, b))
                        .collect();
                    let top = mine.iter().map(|&(_, b)| b).max();
                    let want = top.map(|t| mine.iter().find(|&&(_, b)| b == t).unwrap().0);
                    if mine.iter().filter(|&&(_, b)| Some(b) == top).count() > 1 {
                        ties += 1;
                    }
                    let want = (want, want_big.get(&c).copied().unwrap_or(0));
                    assert_eq!(got[&c], want, "seed {seed}, {split}, class {c}");
                }
            }
        }
        assert!(ties > 0, "no tie was tested");
    }
}
