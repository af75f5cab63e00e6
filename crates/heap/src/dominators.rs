//! The dominator tree and retained sizes, computed exactly as Chrome DevTools does
//! (devtools-frontend@138048f, `HeapSnapshot.ts`): the same "essential" edges, the same
//! Lengauer–Tarjan variant, the same treatment of nodes reachable only through weak edges.
//! Matching DevTools matters more than any theoretical nicety: users compare our numbers
//! with the ones the Memory panel shows.

use crate::graph::{Graph, TypeIds};

/// Bit per edge: does this edge count when building the dominator tree?
pub struct EdgeBits(Vec<u64>);

impl EdgeBits {
    fn new(n: usize) -> Self {
        EdgeBits(crate::mem::zeroed(n.div_ceil(64)))
    }
    #[inline]
    fn set(&mut self, i: usize) {
        self.0[i >> 6] |= 1 << (i & 63);
    }
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        self.0[i >> 6] & (1 << (i & 63)) != 0
    }
}

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

/// Parse V8's WeakMap ephemeron edge name
/// `<n> / part of key (<K> @<id>) -> value (<V> @<id>) pair in WeakMap (table @<id>)`, returning
/// the table id and the part after the leading number (shared by the pair of edges).
pub fn parse_ephemeron(name: &str) -> Option<(u64, &str)> {
    let digits = name.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let rest = &name[digits..];
    if !rest.starts_with(" / part of key (") || !rest.ends_with(')') {
        return None;
    }
    const TABLE: &str = " pair in WeakMap (table @";
    let t = rest.rfind(TABLE)?;
    let id = &rest[t + TABLE.len()..rest.len() - 1];
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !rest[..t].contains(") -> value (") {
        return None;
    }
    Some((id.parse().ok()?, rest))
}

/// DevTools' `markPageOwnedNodes`: everything reachable (not through weak edges) from the
/// root's shortcut edges (user global objects) and `(Document DOM trees)`.
pub fn page_owned(g: &Graph, t: &TypeIds) -> Vec<bool> {
    let n = g.node_count();
    let mut flag: Vec<bool> = crate::mem::zeroed(n);
    let mut stack: Vec<u32> = Vec::new();
    for e in g.edges(g.root) {
        let to = g.edge_to[e];
        let ty = g.edge_type[e];
        if ty == t.e_element {
            if !(g.node_type[to as usize] == t.synthetic && g.name(to) == "(Document DOM trees)") {
                continue;
            }
        } else if ty != t.e_shortcut {
            continue;
        }
        flag[to as usize] = true;
        stack.push(to);
    }
    while let Some(v) = stack.pop() {
        crate::cancel::point(v as usize);
        for e in g.edges(v) {
            let to = g.edge_to[e] as usize;
            if flag[to] || g.edge_type[e] == t.e_weak {
                continue;
            }
            flag[to] = true;
            stack.push(to as u32);
        }
    }
    flag
}

/// DevTools' `computeIsEssentialEdge` for every edge, and each node's count of essential
/// retainers (counted here, where each edge is looked at anyway, to save [`retainers`] a
/// pass over all edges).
pub fn essential_edges(g: &Graph, t: &TypeIds, page: &[bool]) -> (EdgeBits, Vec<u32>) {
    let mut bits = EdgeBits::new(g.edge_count());
    let mut indeg: Vec<u32> = crate::mem::zeroed(g.node_count() + 1);
    // The WeakMap table id named by each string, parsed once per string: a flat table, as
    // this runs for every internal edge. Ids are u32 in V8; anything else matches no node.
    const UNSEEN: u32 = u32::MAX;
    const NOT_EPHEMERON: u32 = u32::MAX - 1;
    let mut weakmap_table = vec![UNSEEN; g.strings.len()];
    let any_page = page.iter().any(|&p| p);
    for v in 0..g.node_count() as u32 {
        crate::cancel::point(v as usize);
        for e in g.edges(v) {
            let ty = g.edge_type[e];
            // Values in WeakMaps are retained by the key and the table together; DevTools
            // keeps the key's edge and drops the table's.
            if ty == t.e_internal {
                let name = g.edge_name[e] as usize;
                let mut table = weakmap_table[name];
                if table == UNSEEN {
                    table = parse_ephemeron(&g.strings[name])
                        .and_then(|(id, _)| u32::try_from(id).ok())
                        .filter(|&id| id < NOT_EPHEMERON)
                        .unwrap_or(NOT_EPHEMERON);
                    weakmap_table[name] = table;
                }
                if table < NOT_EPHEMERON && table == g.node_id[v as usize] {
                    continue;
                }
            }
            if ty == t.e_weak {
                continue;
            }
            let to = g.edge_to[e];
            if to == v {
                continue;
            }
            if v != g.root {
                if ty == t.e_shortcut {
                    continue;
                }
                // No edges from system (non-page) objects into user (page) objects: the
                // debugger and V8 internals must not steal dominance of user objects.
                // DevTools treats "no flags" as all-page; with no page objects at all every
                // node compares equal and nothing is skipped.
                if any_page && page[to as usize] && !page[v as usize] {
                    continue;
                }
            }
            bits.set(e);
            indeg[to as usize] += 1;
        }
    }
    (bits, indeg)
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
pub fn retainers(g: &Graph, ess: &EdgeBits, indeg: Vec<u32>) -> Retainers {
    let n = g.node_count();
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
        crate::cancel::point(v as usize);
        for e in g.edges(v).rev() {
            if ess.get(e) {
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
}

/// Lengauer–Tarjan, the simple-eval/link variant DevTools uses, iterative throughout.
pub fn dominators(g: &Graph, ess: &EdgeBits, r: &Retainers) -> Dominators {
    let n = g.node_count();
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
                crate::cancel::point(*count as usize);
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
                if !ess.get(e) {
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
        crate::cancel::point(i);
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
    Dominators { idom, order, spare }
}

/// Retained size: own size plus everything dominated, summed bottom-up in reverse DFS order.
pub fn retained_sizes(self_size: &[u64], d: &Dominators) -> Vec<u64> {
    let mut ret = self_size.to_vec();
    for &v in d.order.iter().skip(1).rev() {
        let p = d.idom[v as usize] as usize;
        ret[p] += ret[v as usize];
    }
    ret
}

#[cfg(test)]
mod tests {
    /// The root holds `Reached`; `ContextifyScript` and its native half hold only each other
    /// (the shape every `node -e` snapshot has). DevTools hangs both off the root.
    #[test]
    fn a_cycle_nothing_reaches_hangs_off_the_root() {
        let bytes = include_bytes!("../fuzz/corpus/parse/unreachable-cycle");
        let g = crate::parse::parse(bytes).expect("the corpus file parses");
        let h = crate::Heap::from_graph(g);
        assert_eq!(h.idom, vec![0, 0, 0, 0]);
        assert_eq!(h.retained, vec![60, 10, 20, 30]);
        assert_eq!(h.total, 60);
    }
}
