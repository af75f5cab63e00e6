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
    /// Node ordinals in DFS preorder from the root (DevTools' `vertex[1..=n]`).
    pub order: Vec<u32>,
    /// Work arrays of node-count length that are dead now, handed on for reuse: memory
    /// fresh from the kernel costs a page fault and a zeroed page per 4 KiB, about a
    /// millisecond per 3 MB on this machine, and the next stage needs three such arrays.
    pub spare: Vec<Vec<u32>>,
    /// The predecessor lists' buffer, dead too, cut to node-count length (at least that
    /// long: every node has a kept or a virtual in-edge): the distance BFS's distances.
    pub spare_preds: Vec<u32>,
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
/// node (length nodes + 1; its buffer is reused).
pub fn dominators<K: Fn(usize) -> bool>(f: &Forward<'_, K>, indeg: Vec<u32>) -> Dominators {
    let n = f.first_edge.len() - 1;
    let t0 = std::time::Instant::now();
    let Numbered {
        vertex,
        parent,
        first,
        preds,
        reached,
        spare,
    } = number_and_preds(f, indeg);
    crate::timing::timing("dominators: DFS and predecessor lists", t0);
    let t0 = std::time::Instant::now();
    let (idom, semi, ancestor, mut label) =
        semidominators_and_idoms(first, &preds, parent, reached, spare);
    crate::timing::timing("dominators: semidominators and idoms", t0);
    // Shrinking a big buffer in place gives its tail back (glibc's `mremap`) and keeps
    // the pages already mapped at its head.
    let mut preds = preds;
    preds.truncate(n);
    preds.shrink_to_fit();
    // Back to node ordinals. Vertices past `reached` (held only by unreached cycles) hang
    // off the root.
    let root = f.root;
    let out = &mut label;
    for i in 1..=n {
        let v = vertex[i] as usize;
        out[v] = if i == 1 || i > reached {
            root
        } else {
            vertex[idom[i] as usize]
        };
    }
    label.truncate(n);
    let mut order = vertex;
    order.remove(0);
    let spares = vec![idom, semi, ancestor];
    Dominators {
        idom: label,
        order,
        spare: spares,
        spare_preds: preds,
    }
}

/// The DFS numbering and the predecessor lists, all indexed by preorder number (1-based;
/// 0 is "none").
struct Numbered {
    /// `vertex[i]`: the node numbered `i` (`vertex[0]` unused).
    vertex: Vec<u32>,
    /// `parent[i]`: the number of `i`'s DFS parent (0 for the root).
    parent: Vec<u32>,
    /// `preds[first[i]..first[i + 1]]`: the numbers of `i`'s predecessors.
    first: Vec<u32>,
    preds: Vec<u32>,
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
    preds: Vec<u32>,
    count: u32,
    slots: u64,
}

impl Numbering {
    /// Number node `v` as the next vertex, with DFS parent number `p`, and reserve its
    /// predecessor slots.
    #[inline]
    fn number(&mut self, v: u32, p: u32) -> u32 {
        self.count += 1;
        let k = self.count as usize;
        crate::cancel::point(k);
        self.pre[v as usize] = self.count;
        self.vertex[k] = v;
        self.parent[k] = p;
        self.first[k] = self.slots as u32;
        let d = self.cursor[v as usize];
        self.cursor[v as usize] = self.slots as u32;
        self.slots += u64::from(d);
        self.count
    }

    /// Record the predecessor number `p` of node `w` (numbered already).
    #[inline]
    fn add_pred(&mut self, w: u32, p: u32) {
        let slot = &mut self.cursor[w as usize];
        self.preds[*slot as usize] = p;
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
                    self.number(w, pv);
                    self.add_pred(w, pv);
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
/// no kept in-edge (as a virtual child of the root: its one predecessor is the root), then
/// numbering whatever is left (held only by cycles nothing reaches). Each kept edge out of
/// a vertex reached this way is looked at exactly once, when both its ends have numbers,
/// and goes straight into its target's predecessor slot.
fn number_and_preds<K: Fn(usize) -> bool>(f: &Forward<'_, K>, indeg: Vec<u32>) -> Numbered {
    let n = f.first_edge.len() - 1;
    // Predecessor slots: one per kept edge, one per virtual root edge (at most one a node).
    let kept: u64 = indeg[..n].iter().map(|&d| u64::from(d)).sum();
    let virtual_edges = indeg[..n].iter().filter(|&&d| d == 0).count() as u64;
    let mut s = Numbering {
        pre: crate::mem::zeroed(n + 1),
        cursor: indeg,
        vertex: crate::mem::zeroed(n + 1),
        parent: crate::mem::zeroed(n + 1),
        first: crate::mem::zeroed(n + 2),
        preds: crate::mem::zeroed((kept + virtual_edges) as usize),
        count: 0,
        slots: 0,
    };
    let mut stack = Vec::new();
    s.number(f.root, 0);
    s.dfs(f, f.root, &mut stack);
    if (s.count as usize) < n {
        for v in 0..n as u32 {
            if s.pre[v as usize] == 0 && s.cursor[v as usize] == 0 {
                s.cursor[v as usize] = 1;
                s.number(v, 1);
                s.add_pred(v, 1);
                s.dfs(f, v, &mut stack);
            }
        }
    }
    let reached = s.count as usize;
    if reached < n {
        for v in 0..n as u32 {
            if s.pre[v as usize] == 0 {
                s.number(v, 1);
            }
        }
        // Their edges into reached vertices were counted in the in-degrees but are never
        // filed: fill those slots with the target's own number, which never lowers a
        // semidominator (a vertex's semidominator is at most its DFS parent's number).
        for k in reached + 1..=n {
            let v = s.vertex[k] as usize;
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
    // Unreached vertices keep empty lists (they are never processed): their `first` entries
    // point at their reserved, unfilled slots, harmless past `reached`.
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
    // "linked", once the loop has gone below its number). It starts as the DFS tree.
    ancestor.truncate(len);
    ancestor.copy_from_slice(&parent);
    // `label[v]`: for a processed v, the smallest semidominator number on its compressed
    // path; for one not processed yet, its own number (what a predecessor numbered below
    // the vertex contributes).
    label.truncate(len);
    for (i, l) in label.iter_mut().enumerate() {
        *l = i as u32;
    }
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
        // The DFS parent is a predecessor (tree edges are kept edges, virtual root edges
        // are in the list), so the minimum starts there.
        let mut s = parent[w as usize];
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
