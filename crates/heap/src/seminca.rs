//! Immediate dominators by semi-NCA (Georgiadis; "Finding Dominators in Practice", Georgiadis,
//! Tarjan and Werneck 2006), on vertices renumbered in DFS preorder, with the predecessor
//! lists built during the DFS itself.
//!
//! Why not DevTools' Lengauer–Tarjan: on a 4 GB snapshot (55 M nodes, 160 M edges) it was
//! a fifth of the whole run. Semi-NCA computes the same semidominators with a simpler `eval`
//! (labels hold semidominator *numbers*, so a predecessor numbered below the vertex costs no
//! memory access at all) and then the idoms by walking up the partial dominator tree, with
//! no buckets. Every array is indexed by preorder number, so the predecessor lists are read
//! front to back once, and the separate pass that built DevTools' retainer lists (one more
//! read of every edge) is folded into the DFS: when the DFS looks at an edge, both ends
//! already have their numbers.
//!
//! The dominator tree of a graph is unique, so this gives DevTools' idoms exactly once the
//! graph is DevTools' graph: the essential edges, plus an edge from the root to every node
//! with no essential retainer (DevTools hangs nodes held only by weak edges off the root,
//! with their subgraphs); nodes that even then stay unreached (a cycle nothing else holds)
//! get the root as their dominator, as DevTools' fix-up gives them. The tests check this
//! against DevTools' Lengauer–Tarjan kept in [`crate::lt_reference`].
//!
//! Everything is iterative: a 55 M-node graph holds chains far deeper than any thread stack.

/// The immediate dominator of every node (the root dominates itself) and the nodes in
/// DFS order, which the retained-size pass walks backwards.
pub struct Dominators {
    pub idom: Vec<u32>,
    /// Node ordinals in DFS preorder from the root (DevTools' `vertex[1..=n]`), with room
    /// for one more entry (the dominator tree's list starts take this buffer, `n + 1` long).
    pub order: Vec<u32>,
    /// Work arrays of node-count length that are dead now, handed on for reuse: memory
    /// fresh from the kernel costs a page fault and a zeroed page per 4 KiB, about a
    /// millisecond per 3 MB on this machine, and the next stage needs three such arrays.
    pub spare: Vec<Vec<u32>>,
    /// The predecessor lists' buffer, dead too: the retained sizes' (it is as long as the
    /// kept edges, which on a heap snapshot is well over the two `u32`s a node a `u64`
    /// needs; any length).
    pub spare_preds: Vec<u64>,
}

/// The graph the dominators are computed on: forward edges in CSR form (`first_edge[v]..
/// first_edge[v + 1]` index `edge_to`), of which only those `keep` accepts count.
pub struct Forward<'a, K: Fn(usize) -> bool> {
    pub first_edge: &'a [u32],
    pub edge_to: &'a [u32],
    pub keep: K,
    pub root: u32,
}

/// Immediate dominators of every node of `f`. `indeg` is the count of kept edges into each
/// node (length nodes + 1; its buffer is reused); `spare` is a dead buffer (any contents,
/// possibly empty) to reuse.
pub fn dominators<K: Fn(usize) -> bool>(
    f: &Forward<'_, K>,
    indeg: Vec<u32>,
    spare: Vec<u32>,
) -> Dominators {
    let n = f.first_edge.len() - 1;
    let t0 = std::time::Instant::now();
    let Numbered {
        vertex,
        parent,
        first,
        preds,
        reached,
        spare,
    } = number_and_preds(f, indeg, spare);
    crate::timing::timing("dominators: DFS and predecessor lists", t0);
    let t0 = std::time::Instant::now();
    let (idom, semi, ancestor, mut label) =
        semidominators_and_idoms(first, preds.get(), parent, reached, spare);
    crate::timing::timing("dominators: semidominators and idoms", t0);
    // Back to node ordinals. Vertices past `reached` (held only by unreached cycles) hang
    // off the root.
    label.truncate(n);
    to_node_ordinals(&mut label, &vertex, &idom, reached, f.root);
    let spares = vec![idom, semi, ancestor];
    Dominators {
        idom: label,
        order: vertex,
        spare: spares,
        spare_preds: preds.0,
    }
}

/// Below this many nodes one thread turns the idoms into node ordinals.
const MIN_SPLIT_NODES: usize = 1 << 20;

/// `out[v]`: the immediate dominator of node `v` as a node ordinal, from `idom` by number.
/// Vertices past `reached` (held only by unreached cycles) hang off the root.
///
/// Random reads and writes, and the other core is usually idle by now (its work beside the
/// dominators is shorter than the search): the numbers are split between two threads, which
/// write through an atomic view of `out` (plain stores on x86; each node is written once,
/// `vertex` being a permutation).
fn to_node_ordinals(out: &mut [u32], vertex: &[u32], idom: &[u32], reached: usize, root: u32) {
    to_node_ordinals_split_from(out, vertex, idom, reached, root, MIN_SPLIT_NODES)
}

/// [`to_node_ordinals`], on two threads from `min_nodes` nodes up (tests split tiny graphs).
fn to_node_ordinals_split_from(
    out: &mut [u32],
    vertex: &[u32],
    idom: &[u32],
    reached: usize,
    root: u32,
    min_nodes: usize,
) {
    use std::sync::atomic::{AtomicU32, Ordering};
    const _: () = assert!(
        std::mem::size_of::<AtomicU32>() == std::mem::size_of::<u32>()
            && std::mem::align_of::<AtomicU32>() == std::mem::align_of::<u32>()
    );
    let n = vertex.len();
    // SAFETY: `AtomicU32` has the same size and alignment as `u32` on this target (asserted
    // above) and the same bit validity, and the exclusive borrow of `out` is held for as
    // long as this shared atomic view lives.
    let out: &[AtomicU32] = unsafe { &*(out as *mut [u32] as *const [AtomicU32]) };
    let fill = |numbers: std::ops::Range<usize>| {
        for i in numbers {
            let d = if i == 1 || i > reached {
                root
            } else {
                vertex[idom[i] as usize - 1]
            };
            out[vertex[i - 1] as usize].store(d, Ordering::Relaxed);
        }
    };
    if n < min_nodes {
        fill(1..n + 1);
        return;
    }
    let mid = n / 2;
    std::thread::scope(|sc| {
        sc.spawn(|| fill(mid..n + 1));
        fill(1..mid);
    });
}

/// The predecessor slots: `u32`s in a buffer of `u64`s, so that once the lists are dead
/// the buffer can hold the retained sizes (one `u64` a node) with no fresh memory.
struct Slots(Vec<u64>);

impl Slots {
    /// At least `len` zeroed slots, in fresh memory (mapped in as it is written).
    fn new(len: usize) -> Slots {
        Slots(vec![0u64; len.div_ceil(2)])
    }

    fn get(&self) -> &[u32] {
        // SAFETY: a `u64` buffer is two `u32`s per element with at least `u32`'s alignment,
        // every bit pattern is valid for both, and the borrow of `self` covers the view.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast::<u32>(), self.0.len() * 2) }
    }

    fn get_mut(&mut self) -> &mut [u32] {
        // SAFETY: as in `get`, with the exclusive borrow of `self` for the view's life.
        unsafe {
            std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast::<u32>(), self.0.len() * 2)
        }
    }
}

/// The DFS numbering and the predecessor lists, all indexed by preorder number (1-based;
/// 0 is "none").
struct Numbered {
    /// `vertex[i - 1]`: the node numbered `i`.
    vertex: Vec<u32>,
    /// `parent[i]`: the number of `i`'s DFS parent (0 for the root).
    parent: Vec<u32>,
    /// `preds[first[i]..first[i + 1]]`: the numbers of `i`'s predecessors.
    first: Vec<u32>,
    preds: Slots,
    /// Vertices `1..=reached` are reached from the root (with the root's virtual edges);
    /// the rest were numbered afterwards.
    reached: usize,
    /// Dead buffers of node-count length, for the next phase.
    spare: [Vec<u32>; 2],
}

/// The numbering under way.
struct Numbering {
    /// `pre[v]`: node v's number (0: not yet).
    pre: Vec<u32>,
    /// `cursor[v]`: node v's next free predecessor slot. The buffer held the in-degrees;
    /// each is read once, when v is numbered, and turned into v's first slot.
    cursor: Vec<u32>,
    vertex: Vec<u32>,
    parent: Vec<u32>,
    first: Vec<u32>,
    preds: Slots,
    count: u32,
    slots: u64,
}

impl Numbering {
    /// Number node `v` as the next vertex, with DFS parent number `p`, and reserve its
    /// predecessor slots: one per kept edge into it but the tree edge from `p` when
    /// `tree_edge` (the parent is kept in `parent`, and the semidominator's minimum starts
    /// there). In a connected heap that is one slot fewer per node: 57 MB less at the peak
    /// of a 1 GB snapshot's analysis, and a shorter list to read in the semidominator loop.
    #[inline]
    fn number(&mut self, v: u32, p: u32, tree_edge: bool) -> u32 {
        self.count += 1;
        let k = self.count as usize;
        crate::cancel::point(k);
        self.pre[v as usize] = self.count;
        self.vertex[k - 1] = v;
        self.parent[k] = p;
        self.first[k] = self.slots as u32;
        // The in-degrees count exactly the edges `keep` accepts, the tree edge among them.
        debug_assert!(self.cursor[v as usize] >= u32::from(tree_edge));
        let d = self.cursor[v as usize] - u32::from(tree_edge);
        self.cursor[v as usize] = self.slots as u32;
        self.slots += u64::from(d);
        self.count
    }

    /// Record the predecessor number `p` of node `w` (numbered already).
    #[inline]
    fn add_pred(&mut self, w: u32, p: u32) {
        let slot = &mut self.cursor[w as usize];
        self.preds.get_mut()[*slot as usize] = p;
        *slot += 1;
    }

    /// Iterative DFS from node `start` (numbered already) in edge order, numbering what it
    /// reaches and filing every kept edge out of each vertex it visits.
    fn dfs<K: Fn(usize) -> bool>(
        &mut self,
        f: &Forward<'_, K>,
        start: u32,
        stack: &mut Vec<(u32, u32)>,
    ) {
        stack.clear();
        stack.push((start, f.first_edge[start as usize]));
        while let Some(&(v, mut next)) = stack.last() {
            let end = f.first_edge[v as usize + 1];
            let pv = self.pre[v as usize];
            let mut child = None;
            while next < end {
                let e = next as usize;
                next += 1;
                if !(f.keep)(e) {
                    continue;
                }
                let w = f.edge_to[e];
                if self.pre[w as usize] == 0 {
                    self.number(w, pv, true);
                    child = Some(w);
                    break;
                }
                self.add_pred(w, pv);
            }
            let top = stack.len() - 1;
            stack[top].1 = next;
            match child {
                Some(w) => {
                    let first = f.first_edge[w as usize];
                    // The search comes back to w's later edges after each child's subtree:
                    // ask for their targets' numbers and slots now, so those misses overlap.
                    let last = f.first_edge[w as usize + 1].min(first.saturating_add(8));
                    for e in first..last {
                        let x = f.edge_to[e as usize] as usize;
                        crate::mem::prefetch(&self.pre, x);
                        crate::mem::prefetch(&self.cursor, x);
                    }
                    stack.push((w, first))
                }
                None => {
                    stack.pop();
                }
            }
        }
    }
}

/// DFS from the root in edge order (DevTools' order), then from every node left that has
/// no kept in-edge (as a virtual child of the root: the root is its parent and its only
/// predecessor), then numbering whatever is left (held only by cycles nothing reaches).
/// Each kept edge out of a vertex reached this way is looked at exactly once, when both its
/// ends have numbers, and goes straight into its target's predecessor slot, unless it is
/// the tree edge that numbered the target. `spare` is a buffer of any contents for
/// `vertex`, every entry of which is written.
fn number_and_preds<K: Fn(usize) -> bool>(
    f: &Forward<'_, K>,
    indeg: Vec<u32>,
    spare: Vec<u32>,
) -> Numbered {
    let n = f.first_edge.len() - 1;
    // Predecessor slots: one per kept edge, less one per tree edge. The tree edges are
    // counted only as the search goes, so the buffer is as long as the kept edges (and at
    // least `2n`: it holds the retained sizes, a `u64` a node, later), but only the part a
    // connected heap fills (all but `n - 1` of the kept edges) is mapped in up front; the
    // rest is fresh memory, mapped only where it is written.
    let kept: u64 = indeg[..n].iter().map(|&d| u64::from(d)).sum();
    let preds = Slots::new((kept as usize).max(2 * n));
    crate::mem::populate(&preds.get()[..(kept as usize).saturating_sub(n.saturating_sub(1))]);
    let vertex = if spare.capacity() > n {
        let mut v = spare;
        v.resize(n, 0);
        v
    } else {
        // One entry spare: see [`Dominators::order`].
        let mut v = crate::mem::zeroed(n + 1);
        v.truncate(n);
        v
    };
    let mut s = Numbering {
        pre: crate::mem::zeroed(n + 1),
        cursor: indeg,
        vertex,
        parent: crate::mem::zeroed(n + 1),
        first: crate::mem::zeroed(n + 2),
        preds,
        count: 0,
        slots: 0,
    };
    let mut stack = Vec::new();
    s.number(f.root, 0, false);
    s.dfs(f, f.root, &mut stack);
    if (s.count as usize) < n {
        for v in 0..n as u32 {
            if s.pre[v as usize] == 0 && s.cursor[v as usize] == 0 {
                s.number(v, 1, false);
                s.dfs(f, v, &mut stack);
            }
        }
    }
    let reached = s.count as usize;
    if reached < n {
        for v in 0..n as u32 {
            if s.pre[v as usize] == 0 {
                s.number(v, 1, false);
            }
        }
        // Their edges into reached vertices were counted in the in-degrees but are never
        // filed: fill those slots with the target's own number, which never lowers a
        // semidominator (a vertex's semidominator is at most its DFS parent's number).
        for k in reached + 1..=n {
            let v = s.vertex[k - 1] as usize;
            for e in f.first_edge[v] as usize..f.first_edge[v + 1] as usize {
                if (f.keep)(e) {
                    let w = f.edge_to[e];
                    let pw = s.pre[w as usize];
                    if pw as usize <= reached {
                        s.add_pred(w, pw);
                    }
                }
            }
        }
    }
    s.first[n + 1] = s.slots as u32;
    // Unreached vertices' slots stay unfilled: they are never processed, so their lists are
    // never read.
    Numbered {
        vertex: s.vertex,
        parent: s.parent,
        first: s.first,
        preds: s.preds,
        reached,
        spare: [s.pre, s.cursor],
    }
}

/// Semidominators by semi-NCA's `eval` with path compression (vertices `reached` down to
/// 2), then each idom as the nearest ancestor in the partial dominator tree numbered at most
/// the semidominator (vertices 2 up). Returns `(idom, semi, ancestor, label)`, all by number;
/// only `idom` is meaningful afterwards, the rest are dead buffers.
///
/// No array is allocated here: `label` and `ancestor` take the numbering's dead buffers, and
/// the semidominators go into `first` (vertex `w + 1`'s list start is last read while
/// processing `w`), which keeps the peak at five node-length arrays beside the lists.
fn semidominators_and_idoms(
    mut first: Vec<u32>,
    preds: &[u32],
    parent: Vec<u32>,
    reached: usize,
    spare: [Vec<u32>; 2],
) -> (Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>) {
    let len = parent.len();
    let [mut label, mut ancestor] = spare;
    debug_assert!(label.len() >= len && ancestor.len() >= len && first.len() > len);
    // `ancestor`: the path-compressed forest of processed vertices (a vertex is processed,
    // "linked", once the loop has gone below its number), each entry set to the DFS parent
    // when its vertex is processed. `label[v]`: for a processed v, the smallest
    // semidominator number on its compressed path. Both are read for processed vertices
    // only (a predecessor numbered below the vertex is its own number, read from no
    // array), so neither needs filling first: both buffers hold the numbering's leftovers.
    ancestor.truncate(len);
    label.truncate(len);
    let mut path: Vec<u32> = Vec::new();
    // The semidominator of the vertex processed last (w + 1), written to `first[w + 1]`
    // once w has read its list end there.
    let mut semi_above = 0u32;
    for w in (2..=reached as u32).rev() {
        crate::cancel::point(w as usize);
        let range = first[w as usize] as usize..first[w as usize + 1] as usize;
        if (w as usize) < reached {
            first[w as usize + 1] = semi_above;
        }
        // The DFS parent is a predecessor (by a kept tree edge, or a virtual root edge),
        // left out of the list: the minimum starts there.
        let p = parent[w as usize];
        ancestor[w as usize] = p;
        let mut s = p;
        for &v in &preds[range] {
            let c = if v <= w {
                v
            } else {
                eval(v, w, &mut ancestor, &mut label, &mut path)
            };
            if c < s {
                s = c;
            }
        }
        label[w as usize] = s;
        semi_above = s;
    }
    if reached >= 2 {
        first[2] = semi_above;
    }
    let semi = first;
    let mut idom = parent;
    for w in 2..=reached {
        let s = semi[w];
        let mut d = idom[w];
        while d > s {
            d = idom[d as usize];
        }
        idom[w] = d;
    }
    (idom, semi, ancestor, label)
}

/// The smallest semidominator number on the path from processed vertex `v` up to, and
/// excluding, its first ancestor not processed yet (numbered `w` or below), compressing the
/// path on the way (iteratively: the path can be millions of vertices long).
#[inline]
fn eval(v: u32, w: u32, ancestor: &mut [u32], label: &mut [u32], path: &mut Vec<u32>) -> u32 {
    let a = ancestor[v as usize];
    if a <= w || ancestor[a as usize] <= w {
        // v, or v and its processed parent-in-forest whose own ancestor is unprocessed.
        return if a <= w {
            label[v as usize]
        } else {
            label[v as usize].min(label[a as usize])
        };
    }
    path.clear();
    let mut x = v;
    while ancestor[ancestor[x as usize] as usize] > w {
        path.push(x);
        x = ancestor[x as usize];
    }
    // x is processed, its ancestor is processed, its ancestor's ancestor is not: x's label
    // and ancestor are final for this query once x looks one step up.
    let top = ancestor[x as usize];
    if label[top as usize] < label[x as usize] {
        label[x as usize] = label[top as usize];
    }
    let mut p = x;
    while let Some(y) = path.pop() {
        if label[p as usize] < label[y as usize] {
            label[y as usize] = label[p as usize];
        }
        ancestor[y as usize] = ancestor[p as usize];
        p = y;
    }
    label[v as usize]
}

#[cfg(test)]
mod tests {
    /// Split over two threads, the idoms by node ordinal are the one-thread ones, and they
    /// are what the numbering says: vertex `i`'s idom number turned into its node.
    #[test]
    fn two_threads_turn_numbers_into_the_same_node_ordinals() {
        for seed in 1..30u64 {
            let mut rng = crate::test_rng::Rng::new(seed);
            let n = 2 + rng.below(500) as usize;
            // A random numbering: vertex[i - 1] is the node numbered i.
            let mut vertex: Vec<u32> = (0..n as u32).collect();
            for i in (1..n).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                vertex.swap(i, j);
            }
            let reached = 1 + rng.below(n as u64) as usize;
            // idom[i] for i in 2..=reached is a number below i.
            let mut idom = vec![0u32; n + 1];
            for (i, d) in idom.iter_mut().enumerate().skip(2) {
                *d = 1 + rng.below(i as u64 - 1) as u32;
            }
            let root = vertex[0];
            let mut one = vec![u32::MAX; n];
            let mut two = vec![u32::MAX; n];
            super::to_node_ordinals_split_from(&mut one, &vertex, &idom, reached, root, usize::MAX);
            super::to_node_ordinals_split_from(&mut two, &vertex, &idom, reached, root, 0);
            assert_eq!(one, two, "seed {seed}");
            for i in 1..=n {
                let want = if i == 1 || i > reached {
                    root
                } else {
                    vertex[idom[i] as usize - 1]
                };
                assert_eq!(one[vertex[i - 1] as usize], want, "seed {seed}, number {i}");
            }
        }
    }
}
