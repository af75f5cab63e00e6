//! DevTools' Lengauer–Tarjan (devtools-frontend@138048f, `HeapSnapshot.ts`), as leakhound ran
//! it before [`crate::seminca`]: kept only as the reference the semi-NCA pass must agree
//! with, node for node, on random graphs and real snapshots.

use crate::seminca::{Dominators, Forward};

/// Bit per node (1-based vertex numbers in [`dominators`]).
struct NodeBits(Vec<u64>);

impl NodeBits {
    fn new(n: usize) -> Self {
        NodeBits(crate::mem::zeroed(n.div_ceil(64)))
    }
    #[inline]
    fn set(&mut self, i: usize) {
        self.0[i >> 6] |= 1 << (i & 63);
    }
    #[inline]
    fn get(&self, i: usize) -> bool {
        self.0[i >> 6] & (1 << (i & 63)) != 0
    }
}

/// Reverse essential edges: for each node, the nodes that retain it through an edge that
/// counts for dominance. Non-essential edges are left out entirely (DevTools keeps them and
/// skips them in every loop), which saves one u32 per edge on big snapshots.
pub struct Retainers {
    pub first: Vec<u32>,
    pub node: Vec<u32>,
}

/// `indeg` is the count of essential retainers per node (length nodes + 1), as
/// [`essential_edges`] returns it; its buffer becomes the list starts.
pub fn retainers<K: Fn(usize) -> bool>(g: &Forward<'_, K>, indeg: Vec<u32>) -> Retainers {
    let n = g.first_edge.len() - 1;
    let mut first = indeg;
    debug_assert_eq!(first.len(), n + 1);
    let mut acc = 0u32;
    for f in first.iter_mut() {
        let c = *f;
        *f = acc;
        acc += c;
    }
    let mut node: Vec<u32> = crate::mem::zeroed(acc as usize);
    // Fill each node's slots from the back (first[to+1] moves down), then `first` is whole again.
    for v in (0..n as u32).rev() {
        for e in (g.first_edge[v as usize] as usize..g.first_edge[v as usize + 1] as usize).rev() {
            if (g.keep)(e) {
                let to = g.edge_to[e] as usize;
                first[to + 1] -= 1;
                node[first[to + 1] as usize] = v;
            }
        }
    }
    // After the loop first[to + 1] == start of to's range; shift back into place.
    first.remove(0);
    first.push(acc);
    Retainers { first, node }
}

/// Lengauer–Tarjan, the simple-eval/link variant DevTools uses, iterative throughout
/// (leakhound's implementation until semi-NCA replaced it).
pub fn dominators<K: Fn(usize) -> bool>(g: &Forward<'_, K>, r: &Retainers) -> Dominators {
    let n = g.first_edge.len() - 1;
    let len = n + 1;
    // 1-based vertex numbers; 0 is "none".
    // `ancestor` doubles as the DFS parent: a vertex's entry is only read as its ancestor
    // once it is linked (processed, in `linked`), and linking sets it to the parent anyway.
    // One array fewer than DevTools at the peak (60 MB on a 15M-node graph).
    let mut ancestor: Vec<u32> = crate::mem::zeroed(len);
    let mut linked = NodeBits::new(len);
    let mut vertex: Vec<u32> = crate::mem::zeroed(len);
    let mut label: Vec<u32> = crate::mem::zeroed(len);
    let mut semi: Vec<u32> = crate::mem::zeroed(len);
    let mut next_edge: Vec<u32> = crate::mem::zeroed(len);
    let mut count: u32 = 0;

    let mut dfs = |root: u32,
                   ancestor: &mut [u32],
                   vertex: &mut [u32],
                   label: &mut [u32],
                   semi: &mut [u32],
                   count: &mut u32| {
        next_edge[(root - 1) as usize] = g.first_edge[(root - 1) as usize];
        let mut v = root;
        while v != 0 {
            if semi[v as usize] == 0 {
                *count += 1;
                semi[v as usize] = *count;
                vertex[*count as usize] = v;
                label[v as usize] = v;
            }
            let mut v_next = ancestor[v as usize];
            let vo = (v - 1) as usize;
            let end = g.first_edge[vo + 1];
            while next_edge[vo] < end {
                let e = next_edge[vo] as usize;
                next_edge[vo] += 1;
                if !(g.keep)(e) {
                    continue;
                }
                let w = g.edge_to[e] + 1;
                if semi[w as usize] == 0 {
                    ancestor[w as usize] = v;
                    next_edge[(w - 1) as usize] = g.first_edge[(w - 1) as usize];
                    v_next = w;
                    break;
                }
            }
            v = v_next;
        }
    };

    let root = g.root + 1;
    dfs(
        root,
        &mut ancestor,
        &mut vertex,
        &mut label,
        &mut semi,
        &mut count,
    );
    if (count as usize) < n {
        // Nodes held only by weak (non-essential) edges hang off the root, with their subgraphs.
        for v in 1..=n as u32 {
            let vo = (v - 1) as usize;
            if semi[v as usize] == 0 {
                let only_weak = r.first[vo] == r.first[vo + 1];
                if only_weak {
                    ancestor[v as usize] = root;
                    dfs(
                        v,
                        &mut ancestor,
                        &mut vertex,
                        &mut label,
                        &mut semi,
                        &mut count,
                    );
                }
            }
        }
    }
    if (count as usize) < n {
        for v in 1..=n as u32 {
            if semi[v as usize] == 0 {
                ancestor[v as usize] = root;
                count += 1;
                semi[v as usize] = count;
                vertex[count as usize] = v;
                label[v as usize] = v;
            }
        }
    }

    let mut stack: Vec<u32> = Vec::new();
    let mut compress =
        |v0: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], linked: &NodeBits| {
            let mut v = v0;
            stack.clear();
            while linked.get(ancestor[v as usize] as usize) {
                stack.push(v);
                v = ancestor[v as usize];
            }
            while let Some(w) = stack.pop() {
                let a = ancestor[w as usize] as usize;
                if semi[label[a] as usize] < semi[label[w as usize] as usize] {
                    label[w as usize] = label[a];
                }
                ancestor[w as usize] = ancestor[a];
            }
        };
    // The DFS cursor is dead now; its memory becomes `dom`.
    let mut dom = next_edge;
    dom.fill(0);
    // Buckets as singly linked lists: each vertex sits in at most one bucket at a time.
    let mut bucket_head: Vec<u32> = crate::mem::zeroed(len);
    // A vertex's bucket link is read just before its `dom` is written and never again, so
    // the links live in `dom` itself (one array less at the peak).
    let n_vis = count as usize;
    for i in (2..=n_vis).rev() {
        let w = vertex[i];
        let wo = (w - 1) as usize;
        let orphan = r.first[wo] == r.first[wo + 1];
        for ri in r.first[wo]..r.first[wo + 1] {
            let v = r.node[ri as usize] + 1;
            let u = if !linked.get(v as usize) {
                v
            } else {
                compress(v, &mut ancestor, &mut label, &semi, &linked);
                label[v as usize]
            };
            if semi[u as usize] < semi[w as usize] {
                semi[w as usize] = semi[u as usize];
            }
        }
        if orphan {
            semi[w as usize] = semi[root as usize];
        }
        let b = vertex[semi[w as usize] as usize] as usize;
        dom[w as usize] = bucket_head[b];
        bucket_head[b] = w;
        // Link w to its parent: `ancestor[w]` already holds the parent.
        let pw = ancestor[w as usize];
        linked.set(w as usize);
        let mut v = bucket_head[pw as usize];
        bucket_head[pw as usize] = 0;
        while v != 0 {
            let nv = dom[v as usize];
            let u = if !linked.get(v as usize) {
                v
            } else {
                compress(v, &mut ancestor, &mut label, &semi, &linked);
                label[v as usize]
            };
            dom[v as usize] = if semi[u as usize] < semi[v as usize] {
                u
            } else {
                pw
            };
            v = nv;
        }
    }
    // Vertices still sitting in a bucket were never given a dominator: their `semi` is not a
    // DFS ancestor. That happens to nodes held only by a cycle that nothing else reaches
    // (the last pass above hangs them off the root one by one): in every snapshot written by
    // `node -e`, `node -p` or `node -` the `ContextifyScript` running the script and its
    // native half hold each other and little else. DevTools leaves their `dom` at 0 and the
    // fix-up below maps 0 to the root; here `dom` holds the bucket links instead, so those
    // links are cleared to the same 0 (without this, `dom[w] - 1` underflowed).
    for head in bucket_head.iter_mut() {
        let mut v = std::mem::take(head);
        while v != 0 {
            let nv = dom[v as usize];
            dom[v as usize] = 0;
            v = nv;
        }
    }
    dom[0] = root;
    dom[root as usize] = root;
    for i in 2..=n_vis {
        let w = vertex[i] as usize;
        if dom[w] != vertex[semi[w] as usize] {
            dom[w] = dom[dom[w] as usize];
        }
    }
    // Reuse dead buffers for the results: on a 15M-node graph each one is 60 MB.
    drop(linked);
    let spare = vec![ancestor, semi, bucket_head];
    let mut idom = label;
    for o in 0..n {
        idom[o] = dom[o + 1] - 1;
    }
    idom.truncate(n);
    drop(dom);
    let mut order = vertex;
    for i in 0..n_vis {
        order[i] = order[i + 1] - 1;
    }
    order.truncate(n_vis);
    Dominators {
        idom,
        order,
        spare,
        spare_preds: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random graph in CSR form with a random subset of edges kept.
    struct Case {
        first_edge: Vec<u32>,
        edge_to: Vec<u32>,
        kept: Vec<bool>,
        root: u32,
    }

    impl Case {
        fn forward(&self) -> Forward<'_, impl Fn(usize) -> bool + '_> {
            Forward {
                first_edge: &self.first_edge,
                edge_to: &self.edge_to,
                keep: move |e: usize| self.kept[e],
                root: self.root,
            }
        }

        fn indeg(&self) -> Vec<u32> {
            let mut d = vec![0u32; self.first_edge.len()];
            for (e, &to) in self.edge_to.iter().enumerate() {
                if self.kept[e] {
                    d[to as usize] += 1;
                }
            }
            d
        }
    }

    fn rng(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |m| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m.max(1)
        }
    }

    /// Shapes that exercise every branch: long chains (deep DFS and long compression
    /// paths), dense random edges, nodes held only by dropped (weak) edges, and cycles that
    /// nothing reaches.
    fn random_case(seed: u64) -> Case {
        let mut r = rng(seed | 1);
        let n = 1 + r(400) as usize;
        let chain = r(3) == 0;
        let degree = 1 + r(6);
        let mut first_edge = vec![0u32];
        let mut edge_to = vec![];
        let mut kept = vec![];
        for v in 0..n {
            let k = r(degree + 1);
            for _ in 0..k {
                let to = if chain && r(4) != 0 {
                    ((v + 1) % n) as u32
                } else if r(5) == 0 {
                    v.saturating_sub(1 + r(3) as usize) as u32
                } else {
                    r(n as u64) as u32
                };
                edge_to.push(to);
                kept.push(r(6) != 0);
            }
            first_edge.push(edge_to.len() as u32);
        }
        Case {
            first_edge,
            edge_to,
            kept,
            root: r((n as u64).min(3)) as u32,
        }
    }

    /// Both computations; semi-NCA gets a spare buffer full of leftovers for its DFS order,
    /// as the essential pass hands it one on big snapshots.
    fn both(c: &Case) -> (Dominators, Dominators) {
        let f = c.forward();
        let r = retainers(&f, c.indeg());
        let lt = dominators(&f, &r);
        let spare = vec![u32::MAX; c.first_edge.len() + 6];
        let sn = crate::seminca::dominators(&f, c.indeg(), spare);
        (lt, sn)
    }

    /// How many nodes the root reaches through kept edges, with a virtual root edge to each
    /// node that has no kept in-edge.
    fn reached(c: &Case) -> usize {
        let n = c.first_edge.len() - 1;
        let indeg = c.indeg();
        let mut seen = vec![false; n];
        let mut stack = vec![c.root];
        seen[c.root as usize] = true;
        for v in 0..n {
            if indeg[v] == 0 && !seen[v] {
                seen[v] = true;
                stack.push(v as u32);
            }
        }
        while let Some(v) = stack.pop() {
            for e in c.first_edge[v as usize]..c.first_edge[v as usize + 1] {
                let to = c.edge_to[e as usize] as usize;
                if c.kept[e as usize] && !seen[to] {
                    seen[to] = true;
                    stack.push(to as u32);
                }
            }
        }
        seen.iter().filter(|&&s| s).count()
    }

    /// A cycle nothing reaches (2 and 3) with edges into reached nodes (1 and 4): those
    /// edges hold predecessor slots of reached vertices, filled after the search, and must
    /// change no dominator (DevTools hangs the cycle off the root).
    #[test]
    fn an_unreached_cycle_pointing_into_reached_nodes_changes_no_dominator() {
        let c = Case {
            // 0 -> 1; 1 -> 4; 2 -> 3, 1; 3 -> 2, 4.
            first_edge: vec![0, 1, 2, 4, 6, 6],
            edge_to: vec![1, 4, 3, 1, 2, 4],
            kept: vec![true; 6],
            root: 0,
        };
        assert_eq!(reached(&c), 3);
        let (lt, sn) = both(&c);
        assert_eq!(lt.idom, vec![0, 0, 0, 0, 1]);
        assert_eq!(sn.idom, lt.idom);
        assert_eq!(sn.order, lt.order);
    }

    #[test]
    fn semi_nca_equals_lengauer_tarjan_on_random_graphs() {
        let (mut with_unreached, mut unreached_cycles) = (0, 0);
        for seed in 0..3000u64 {
            let c = random_case(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let (lt, sn) = both(&c);
            assert_eq!(sn.idom, lt.idom, "seed {seed}");
            assert_eq!(sn.order, lt.order, "seed {seed}");
            let n = c.first_edge.len() - 1;
            assert_eq!(sn.idom.len(), n);
            assert_eq!(sn.idom[c.root as usize], c.root);
            if sn
                .idom
                .iter()
                .enumerate()
                .any(|(v, &d)| d == c.root && v as u32 != c.root)
            {
                with_unreached += 1;
            }
            if reached(&c) < n {
                unreached_cycles += 1;
            }
        }
        assert!(
            with_unreached > 100,
            "the random shapes hang nodes off the root"
        );
        assert!(
            unreached_cycles > 30,
            "the random shapes hold cycles nothing reaches: {unreached_cycles}"
        );
    }

    /// The dominator definition itself on small graphs: d dominates w when every path from
    /// the root (with a virtual edge to each node that has no kept in-edge) passes d.
    #[test]
    fn semi_nca_matches_the_definition_on_small_graphs() {
        for seed in 0..400u64 {
            let c = random_case(seed * 7919 + 11);
            let n = c.first_edge.len() - 1;
            if n > 60 {
                continue;
            }
            let indeg = c.indeg();
            let reach = |skip: Option<u32>| {
                let mut seen = vec![false; n];
                if skip == Some(c.root) {
                    return seen;
                }
                let mut stack = vec![c.root];
                seen[c.root as usize] = true;
                for v in 0..n {
                    if indeg[v] == 0 && v as u32 != c.root && Some(v as u32) != skip {
                        seen[v] = true;
                        stack.push(v as u32);
                    }
                }
                while let Some(v) = stack.pop() {
                    for e in c.first_edge[v as usize]..c.first_edge[v as usize + 1] {
                        let to = c.edge_to[e as usize];
                        if c.kept[e as usize] && !seen[to as usize] && Some(to) != skip {
                            seen[to as usize] = true;
                            stack.push(to);
                        }
                    }
                }
                seen
            };
            let all = reach(None);
            let without: Vec<Vec<bool>> = (0..n as u32).map(|d| reach(Some(d))).collect();
            let (_, sn) = both(&c);
            for w in 0..n {
                if w as u32 == c.root || !all[w] {
                    continue;
                }
                // Strict dominators of w; the idom is the one they all dominate.
                let doms: Vec<usize> = (0..n).filter(|&d| d != w && !without[d][w]).collect();
                let idom = doms
                    .iter()
                    .copied()
                    .find(|&d| doms.iter().all(|&o| o == d || !without[o][d]))
                    .expect("the root dominates everything reached");
                assert_eq!(sn.idom[w] as usize, idom, "seed {seed} node {w}");
            }
        }
    }

    /// The fuzz corpus's real snapshot shapes (including a cycle nothing reaches).
    #[test]
    fn semi_nca_equals_lengauer_tarjan_on_corpus_snapshots() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/parse");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("the fuzz corpus") {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("readable");
            let Ok(g) = crate::parse::parse(&bytes) else {
                continue;
            };
            assert_same_on(&g);
            checked += 1;
        }
        assert!(checked > 0);
    }

    fn assert_same_on(g: &crate::graph::Graph) {
        let t = g.types();
        let page = crate::dominators::page_owned(g, &t);
        let (ess, indeg, spare) = crate::dominators::essential_edges(g, &t, &page);
        let f = Forward {
            first_edge: &g.first_edge,
            edge_to: &g.edge_to,
            keep: |e| ess.get(e),
            root: g.root,
        };
        let r = retainers(&f, indeg.clone());
        let lt = dominators(&f, &r);
        drop(r);
        let sn = crate::seminca::dominators(&f, indeg, spare);
        let differ = (0..g.node_count())
            .filter(|&v| sn.idom[v] != lt.idom[v])
            .count();
        assert_eq!(differ, 0, "nodes whose idom differs");
        assert_eq!(sn.order, lt.order);
    }

    /// A real (big) snapshot, node for node:
    /// `LEAKHOUND_DOMINATORS_FILE=FILE cargo test --release -p leakhound-heap --lib -- --ignored semi_nca_equals_lengauer_tarjan_on_a_file`.
    #[test]
    #[ignore]
    fn semi_nca_equals_lengauer_tarjan_on_a_file() {
        let path = std::env::var_os("LEAKHOUND_DOMINATORS_FILE")
            .expect("set LEAKHOUND_DOMINATORS_FILE to a .heapsnapshot");
        let g = crate::parse::read_file(std::path::Path::new(&path)).expect("parses");
        assert_same_on(&g);
    }
}
