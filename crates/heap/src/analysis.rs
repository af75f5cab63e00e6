//! Everything DevTools computes when it opens a snapshot, in the same order and with the same
//! rules (devtools-frontend@138048f): page-owned flags, shallow-size transfer from internal
//! arrays to their single owner, essential edges, dominators, retained sizes, distances and
//! class names. [`Heap`] is the result every command works from.

use crate::classes;
use crate::dominators::{self, parse_ephemeron};
use crate::graph::{Graph, TypeIds};
use crate::timing::timing;
use rustc_hash::FxHashSet;
use std::path::Path;

/// DevTools' distance for nodes reached only from system roots.
pub const BASE_SYSTEM_DISTANCE: i32 = 100_000_000;
pub const NO_DISTANCE: i32 = -5;
pub const NO_EDGE: u32 = u32::MAX;

/// A parsed and analysed snapshot.
pub struct Heap {
    pub graph: Graph,
    pub t: TypeIds,
    /// Self sizes after DevTools' shallow-size transfer.
    pub self_size: crate::sizes::Sizes,
    pub retained: Vec<u64>,
    pub idom: Vec<u32>,
    /// Empty when opened by [`Heap::open_without_paths`].
    pub distance: Vec<i32>,
    /// The edge that first reached each node in the distance BFS: the shortest retainer path.
    /// Empty when opened by [`Heap::open_without_paths`].
    pub parent_edge: Vec<u32>,
    pub class_of: Vec<u32>,
    pub class_names: Vec<String>,
    /// Dominator-tree children, as `dom_first[n]..dom_first[n+1]` into `dom_children`.
    pub dom_first: Vec<u32>,
    pub dom_children: Vec<u32>,
    pub total: u64,
}

/// A snapshot analysed up to its dominator tree, class names and retained sizes: everything
/// of [`Heap`] but the distances. Work that needs no retainer path (per-class tables) runs
/// on it while the distance BFS has the other core ([`Heap::open_with`]).
pub struct Tree<'h> {
    pub graph: &'h Graph,
    pub t: &'h TypeIds,
    pub self_size: &'h crate::sizes::Sizes,
    pub retained: &'h [u64],
    pub idom: &'h [u32],
    pub class_of: &'h [u32],
    pub class_names: &'h [String],
    pub dom_first: &'h [u32],
    pub dom_children: &'h [u32],
    pub total: u64,
}

/// The per-node view known before the dominators: the graph, the self sizes after the
/// transfer, and the class names. Work that needs nothing more runs on it beside the
/// dominator pass ([`Beside::early`]).
pub struct Nodes<'h> {
    pub graph: &'h Graph,
    pub t: &'h TypeIds,
    pub self_size: &'h crate::sizes::Sizes,
    pub class_of: &'h [u32],
    pub class_names: &'h [String],
}

impl Nodes<'_> {
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn class_name(&self, n: u32) -> &str {
        &self.class_names[self.class_of[n as usize] as usize]
    }
}

/// Work a caller adds to [`Heap::open_with`] on the core the analysis leaves free: `early`
/// beside the dominator pass (one sequential search that holds the main core), `late`
/// beside the distance BFS. What each stage can see decides which part goes where.
pub trait Beside: Sync {
    type Early: Send;
    type Out;
    fn early(&self, n: &Nodes<'_>) -> Self::Early;
    fn late(&self, early: Self::Early, t: &Tree<'_>) -> Self::Out;
}

/// No work beside the analysis.
impl Beside for () {
    type Early = ();
    type Out = ();
    fn early(&self, _: &Nodes<'_>) {}
    fn late(&self, _: (), _: &Tree<'_>) {}
}

impl Tree<'_> {
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The per-node part of this view.
    pub fn nodes(&self) -> Nodes<'_> {
        Nodes {
            graph: self.graph,
            t: self.t,
            self_size: self.self_size,
            class_of: self.class_of,
            class_names: self.class_names,
        }
    }

    pub fn class_name(&self, n: u32) -> &str {
        &self.class_names[self.class_of[n as usize] as usize]
    }

    pub fn children(&self, n: u32) -> &[u32] {
        &self.dom_children
            [self.dom_first[n as usize] as usize..self.dom_first[n as usize + 1] as usize]
    }
}

impl Heap {
    /// Parse and analyse a `.heapsnapshot` file (any size; memory-mapped).
    pub fn open(path: &Path) -> Result<Heap, crate::error::OpenError> {
        Ok(Heap::open_with(path, &())?.0)
    }

    /// [`Heap::open`] without the distances and parent edges (both left empty): for a
    /// snapshot that is reduced to its ids, classes, sizes and retained sizes and closed
    /// (`heap diff`'s first, `heap leaks`' second). The distance BFS is the last stage of
    /// the analysis and has a core to itself there: 0.5 s of a 1 GB snapshot's 3 s.
    pub(crate) fn open_without_paths(path: &Path) -> Result<Heap, crate::error::OpenError> {
        Ok(Heap::open_without_paths_with(path, &())?.0)
    }

    /// [`Heap::open_without_paths`], with `beside` as in [`Heap::open_with`] (its `late`
    /// part runs after the retained sizes, alone: there is no BFS to run beside).
    pub(crate) fn open_without_paths_with<B: Beside>(
        path: &Path,
        beside: &B,
    ) -> Result<(Heap, B::Out), crate::error::OpenError> {
        Ok(Heap::analyse(read(path)?, beside, false))
    }

    /// [`Heap::open`], running `beside`'s work on the cores the analysis leaves free (on a
    /// 4 GB snapshot the distance BFS alone is 1.7 s that the main core spent waiting).
    pub fn open_with<B: Beside>(
        path: &Path,
        beside: &B,
    ) -> Result<(Heap, B::Out), crate::error::OpenError> {
        Ok(Heap::from_graph_with(read(path)?, beside))
    }

    /// The view of this heap [`Heap::open_with`] hands to its `beside` work.
    pub fn tree(&self) -> Tree<'_> {
        Tree {
            graph: &self.graph,
            t: &self.t,
            self_size: &self.self_size,
            retained: &self.retained,
            idom: &self.idom,
            class_of: &self.class_of,
            class_names: &self.class_names,
            dom_first: &self.dom_first,
            dom_children: &self.dom_children,
            total: self.total,
        }
    }

    pub fn from_graph(g: Graph) -> Heap {
        Heap::from_graph_with(g, &()).0
    }

    /// [`Heap::from_graph`], with `beside` as in [`Heap::open_with`].
    pub fn from_graph_with<B: Beside>(g: Graph, beside: &B) -> (Heap, B::Out) {
        Heap::analyse(g, beside, true)
    }

    /// [`Heap::from_graph_with`], with the distance BFS only when `paths` is true.
    fn analyse<B: Beside>(mut g: Graph, beside: &B, paths: bool) -> (Heap, B::Out) {
        let t = g.types();
        let self_size = std::mem::take(&mut g.self_size);
        // The main chain: page flags and essential edges (each on both cores), then the
        // semi-NCA dominators (the long pole, one sequential search). Beside the dominators
        // the other core runs what needs only the graph: the shallow-size transfer, then the
        // class names (4 bytes a node, which the peak can afford).
        // The distance BFS waits until the dominator buffers are freed, to keep the peak
        // memory down: its three node-length arrays (12 bytes a node, 680 MB on a 4 GB
        // snapshot) beside the dominator pass's six made the peak 1.29× the file; after it,
        // the BFS queue is a dead dominator-tree buffer.
        let owned = g;
        let g = &owned;
        let (dom, (self_size, (class_of, class_names), early)) = std::thread::scope(|sc| {
            // Page flags and essential edges each run on both cores; the dominator pass
            // that follows is one sequential search, so the second core takes the passes
            // the dominators do not need meanwhile.
            let t0 = std::time::Instant::now();
            let page = dominators::page_owned(g, &t);
            timing("flags", t0);
            let t0 = std::time::Instant::now();
            let (ess, indeg, spare) = dominators::essential_edges(g, &t, &page);
            drop(page);
            timing("essential", t0);
            let other = sc.spawn(|| {
                let t0 = std::time::Instant::now();
                let mut self_size = self_size;
                let dead = shallow_sizes(g, &t, &mut self_size);
                timing("shallow (2nd thread)", t0);
                let t0 = std::time::Instant::now();
                let c = classes::class_names_in(g, &t, dead);
                timing("classes (2nd thread)", t0);
                let t0 = std::time::Instant::now();
                let early = beside.early(&Nodes {
                    graph: g,
                    t: &t,
                    self_size: &self_size,
                    class_of: &c.0,
                    class_names: &c.1,
                });
                timing("beside the dominators (2nd thread)", t0);
                (self_size, c, early)
            });
            let t0 = std::time::Instant::now();
            let d = dominators::dominators(g, &ess, indeg, spare);
            drop(ess);
            timing("dominators", t0);
            crate::cancel::check();
            (d, other.join().expect("shallow-size and class-name thread"))
        });
        // The distance BFS needs only the graph: on the second core beside the retained
        // sizes and the dominator tree, its queue a dead dominator buffer (the DFS order
        // takes its place once the retained sizes are summed).
        let t0 = std::time::Instant::now();
        // Dead buffers, each fresh page costing a fault (about 1 µs on this machine): the
        // forest ancestors' becomes the BFS queue and the semidominators' its parent edges;
        // the DFS order becomes the tree's list starts once the retained sizes are summed,
        // the idoms by number its child array, and the predecessor lists' the retained sizes.
        // The distances alone take fresh memory, on the second core.
        let mut spare = dom.spare;
        let queue = spare.pop().unwrap_or_default();
        let parents = spare.pop().unwrap_or_default();
        let preds = dom.spare_preds;
        let ((retained, idom, dom_first, dom_children, extra), (distance, parent_edge)) =
            std::thread::scope(|sc| {
                let bfs = sc.spawn(|| {
                    if !paths {
                        return (Vec::new(), Vec::new());
                    }
                    let t0 = std::time::Instant::now();
                    let d = distances_in(g, &t, queue, Vec::new(), parents);
                    timing("distances (2nd thread)", t0);
                    d
                });
                let retained = dominators::retained_sizes(&self_size, &dom.order, &dom.idom, preds);
                let idom = dom.idom;
                spare.push(dom.order);
                let (first, children) = dominated(&idom, g.root, spare);
                timing("retained+tree", t0);
                let t1 = std::time::Instant::now();
                let extra = beside.late(
                    early,
                    &Tree {
                        graph: g,
                        t: &t,
                        self_size: &self_size,
                        retained: &retained,
                        idom: &idom,
                        class_of: &class_of,
                        class_names: &class_names,
                        dom_first: &first,
                        dom_children: &children,
                        total: retained[g.root as usize],
                    },
                );
                timing("beside the distances", t1);
                (
                    (retained, idom, first, children, extra),
                    bfs.join().expect("distance thread"),
                )
            });
        timing("retained+tree | distances", t0);
        let total = retained[g.root as usize];
        let heap = Heap {
            graph: owned,
            t,
            self_size,
            retained,
            idom,
            distance,
            parent_edge,
            class_of,
            class_names,
            dom_first,
            dom_children,
            total,
        };
        (heap, extra)
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn class_name(&self, n: u32) -> &str {
        &self.class_names[self.class_of[n as usize] as usize]
    }

    pub fn children(&self, n: u32) -> &[u32] {
        &self.dom_children
            [self.dom_first[n as usize] as usize..self.dom_first[n as usize + 1] as usize]
    }

    /// JS object ids are odd and stable across snapshots of one process; native ids are not.
    pub fn is_js_id(&self, n: u32) -> bool {
        self.graph.node_id[n as usize] % 2 == 1
    }
}

/// The graph of a snapshot file, parsed (timed, and stopped here when cancelled).
fn read(path: &Path) -> Result<Graph, crate::error::OpenError> {
    let t0 = std::time::Instant::now();
    let g = crate::parse::read_file(path)?;
    timing("parse", t0);
    crate::cancel::check();
    Ok(g)
}

/// The dominator tree's child lists (CSR: `first[n]..first[n + 1]` into `children`), built
/// in `spare` buffers when there are any, for the reason given on [`dominators::Dominators`].
/// Each list is filled from its end (the count's prefix sum moves down to the list's
/// start), so no third array of cursors is needed: the distance BFS runs beside this.
fn dominated(idom: &[u32], root: u32, mut spare: Vec<Vec<u32>>) -> (Vec<u32>, Vec<u32>) {
    let n = idom.len();
    let mut take = |len: usize| -> Vec<u32> {
        match spare.pop() {
            Some(mut v) => {
                v.clear();
                v.resize(len, 0);
                v
            }
            None => vec![0u32; len],
        }
    };
    let mut first = take(n + 1);
    for (v, &d) in idom.iter().enumerate() {
        if v as u32 != root {
            first[d as usize] += 1;
        }
    }
    // Inclusive prefix sums: `first[d]` is the end of d's list, `first[n]` the total.
    let mut acc = 0;
    for f in first[..n].iter_mut() {
        acc += *f;
        *f = acc;
    }
    first[n] = acc;
    let mut children = take(acc as usize);
    // Backwards, so each list comes out in ascending node order.
    for (v, &d) in idom.iter().enumerate().rev() {
        if v as u32 != root {
            first[d as usize] -= 1;
            children[first[d as usize] as usize] = v as u32;
        }
    }
    (first, children)
}

/// DevTools' `calculateShallowSizes`: hidden and array nodes (and external string data) owned
/// by exactly one ordinary node give their size to that owner, so a Map's backing table counts
/// as the Map's own size. Skipped when there are no user roots (an "expose internals" capture).
/// Returns its dead work array (node-length, or empty when skipped) for reuse.
pub fn shallow_sizes(g: &Graph, t: &TypeIds, sizes: &mut crate::sizes::Sizes) -> Vec<u32> {
    let has_user_roots = g
        .edges(g.root)
        .any(|e| g.node_type[g.edge_to[e] as usize] != t.synthetic);
    if !has_user_roots {
        return Vec::new();
    }
    const UNVISITED: u32 = u32::MAX;
    const MULTIPLE: u32 = u32::MAX - 1;
    let n = g.node_count();
    let mut owners = vec![0u32; n];
    for (i, owner) in owners.iter_mut().enumerate() {
        let ty = g.node_type[i];
        if ty == t.hidden
            || ty == t.array
            || (ty == t.native && g.name(i as u32) == "system / ExternalStringData")
        {
            *owner = UNVISITED;
        } else {
            *owner = i as u32;
        }
    }
    // DevTools pushes every ordinary node on one stack and then pops: the last one first,
    // each one's search finished before the next. Visiting them in reverse order with a
    // stack of one search at a time does the same work without a stack of every node
    // (4 bytes a node, at the time of the dominator pass's peak). An ordinary node owns
    // itself and no search changes that, so `owners[i] == i` tells them apart.
    let mut work: Vec<u32> = Vec::new();
    for i in (0..n as u32).rev() {
        if owners[i as usize] != i {
            continue;
        }
        work.push(i);
        while let Some(id) = work.pop() {
            let owner = owners[id as usize];
            for e in g.edges(id) {
                if g.edge_type[e] == t.e_weak {
                    continue;
                }
                let target = g.edge_to[e];
                let cur = owners[target as usize];
                if cur == UNVISITED {
                    owners[target as usize] = owner;
                    work.push(target);
                } else if cur == target || cur == owner || cur == MULTIPLE {
                } else {
                    owners[target as usize] = MULTIPLE;
                    work.push(target);
                }
            }
        }
    }
    for (i, &o) in owners.iter().enumerate() {
        if o == UNVISITED || o == MULTIPLE || o == i as u32 {
            continue;
        }
        if g.node_type[o as usize] == t.synthetic || o == g.root {
            continue;
        }
        let s = sizes.get(i);
        sizes.set(i, 0);
        sizes.set(o as usize, sizes.get(o as usize) + s);
    }
    owners
}

/// DevTools' `calculateDistances` (JS flavour, with its edge filter), plus the first edge that
/// reached each node, which gives the shortest retainer path from the user roots.
pub fn distances(g: &Graph, t: &TypeIds) -> (Vec<i32>, Vec<u32>) {
    distances_in(g, t, Vec::new(), Vec::new(), Vec::new())
}

/// [`distances`], with the buffers (any contents) of `queue` as the BFS queue, `dist` as
/// the distances and `parent` as the parent edges.
fn distances_in(
    g: &Graph,
    t: &TypeIds,
    mut queue: Vec<u32>,
    mut dist: Vec<i32>,
    mut parent: Vec<u32>,
) -> (Vec<i32>, Vec<u32>) {
    let n = g.node_count();
    dist.clear();
    dist.resize(n, NO_DISTANCE);
    parent.clear();
    parent.resize(n, NO_EDGE);
    queue.clear();
    queue.reserve(n);
    for e in g.edges(g.root) {
        let to = g.edge_to[e];
        if g.node_type[to as usize] != t.synthetic {
            dist[to as usize] = 1;
            parent[to as usize] = e as u32;
            queue.push(to);
        }
    }
    let user_roots = !queue.is_empty();
    let mut pending: FxHashSet<String> = FxHashSet::default();
    bfs(g, t, &mut queue, &mut dist, &mut parent, &mut pending);
    dist[g.root as usize] = if user_roots { BASE_SYSTEM_DISTANCE } else { 0 };
    queue.clear();
    queue.push(g.root);
    bfs(g, t, &mut queue, &mut dist, &mut parent, &mut pending);
    (dist, parent)
}

fn bfs(
    g: &Graph,
    t: &TypeIds,
    queue: &mut Vec<u32>,
    dist: &mut [i32],
    parent: &mut [u32],
    pending: &mut FxHashSet<String>,
) {
    let mut head = 0;
    while head < queue.len() {
        let v = queue[head];
        head += 1;
        crate::cancel::point(head);
        let d = dist[v as usize] + 1;
        let vty = g.node_type[v as usize];
        for e in g.edges(v) {
            let ety = g.edge_type[e];
            if ety == t.e_weak {
                continue;
            }
            let to = g.edge_to[e];
            if dist[to as usize] != NO_DISTANCE {
                continue;
            }
            if !distance_filter(g, t, v, vty, e, ety, pending) {
                continue;
            }
            dist[to as usize] = d;
            parent[to as usize] = e as u32;
            queue.push(to);
        }
    }
}

fn distance_filter(
    g: &Graph,
    t: &TypeIds,
    v: u32,
    vty: u8,
    e: usize,
    ety: u8,
    pending: &mut FxHashSet<String>,
) -> bool {
    if vty == t.hidden
        && g.edge_name_str(e, t) == Some("sloppy_function_map")
        && g.name(v) == "system / NativeContext"
    {
        return false;
    }
    if vty == t.array && g.name(v) == "(map descriptors)" {
        // Descriptor arrays may be shared between maps; DevTools skips their descriptor links.
        let idx: i64 = match g.edge_name_str(e, t) {
            Some(s) => s.parse().unwrap_or(-1),
            None => g.edge_name[e] as i64,
        };
        return idx < 2 || idx % 3 != 1;
    }
    if ety == t.e_internal {
        if let Some(name) = g.edge_name_str(e, t) {
            // A WeakMap value has two edges (table and key); the value's distance is taken
            // from the second one seen, as DevTools does (crbug.com/1290800).
            if let Some((_, dup)) = parse_ephemeron(name) {
                if !pending.remove(dup) {
                    pending.insert(dup.to_string());
                    return false;
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod dominated_tests {
    /// Child lists in ascending node order, with and without spare buffers to reuse.
    #[test]
    fn child_lists_of_the_dominator_tree() {
        // 0 is the root; 1, 2, 5 under it; 3 and 4 under 2; 6 under 5.
        let idom = [0u32, 0, 0, 2, 2, 0, 5];
        for spare in [vec![], vec![vec![9u32; 3], vec![7u32; 20]]] {
            let (first, children) = super::dominated(&idom, 0, spare);
            assert_eq!(first, vec![0, 3, 3, 5, 5, 5, 6, 6]);
            assert_eq!(children, vec![1, 2, 5, 3, 4, 6]);
        }
    }
}
