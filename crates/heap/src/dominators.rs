//! The dominator tree and retained sizes, computed exactly as Chrome DevTools does
//! (devtools-frontend@138048f, `HeapSnapshot.ts`): the same "essential" edges, the same
//! dominator tree as its Lengauer–Tarjan variant (computed by semi-NCA, [`crate::seminca`]),
//! the same treatment of nodes reachable only through weak edges.
//! Matching DevTools matters more than any theoretical nicety: users compare our numbers
//! with the ones the Memory panel shows.

use crate::graph::{Graph, TypeIds};
pub use crate::seminca::Dominators;
use crate::seminca::Forward;

/// Bit per edge: does this edge count when building the dominator tree?
pub struct EdgeBits(Vec<u64>);

impl EdgeBits {
    fn new(n: usize) -> Self {
        EdgeBits(crate::mem::zeroed(n.div_ceil(64)))
    }
    #[inline]
    pub fn get(&self, i: usize) -> bool {
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
    let mut seeds: Vec<u32> = Vec::new();
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
        if !flag[to as usize] {
            flag[to as usize] = true;
            seeds.push(to);
        }
    }
    // The set reached does not depend on the order of the search: both cores share it.
    crate::reach::reach(g, seeds, &mut flag, |e| g.edge_type[e] != t.e_weak);
    flag
}

/// DevTools' `computeIsEssentialEdge` for every edge, and each node's count of essential
/// retainers (counted here, where each edge is looked at anyway, to save the dominator pass a
/// pass over all edges).
///
/// It lies on the main chain (page flags, essential edges, dominators) while the other core
/// is busy with shallow sizes and class names, so on big snapshots the second half of the
/// nodes goes to a third thread: the two cores share three threads for a moment, and the
/// main chain gets there sooner (1.4 s of it on a 4.4 GB snapshot).
///
/// The third vector is that thread's dead count buffer (empty when one thread did it all),
/// handed on to the dominator pass: fresh memory costs a page fault per 4 KiB.
pub fn essential_edges(g: &Graph, t: &TypeIds, page: &[bool]) -> (EdgeBits, Vec<u32>, Vec<u32>) {
    essential_edges_split_from(g, t, page, 1 << 20)
}

/// [`essential_edges`], on two threads from `min_edges` edges up (tests split tiny graphs).
fn essential_edges_split_from(
    g: &Graph,
    t: &TypeIds,
    page: &[bool],
    min_edges: usize,
) -> (EdgeBits, Vec<u32>, Vec<u32>) {
    let n = g.node_count();
    let m = g.edge_count();
    let mut bits = EdgeBits::new(m);
    let mut indeg: Vec<u32> = crate::mem::zeroed(n + 1);
    let any_page = page.iter().any(|&p| p);
    let pass = Essential {
        g,
        t,
        page,
        any_page,
    };
    if m < min_edges.max(1) {
        let mut carry = 0;
        pass.mark(0..n, &mut bits.0, &mut carry, &mut indeg);
        return (bits, indeg, Vec::new());
    }
    // The second half starts at the node whose edges start nearest the middle edge; the
    // 64-edge word both halves touch is the first half's `carry`, or-ed in afterwards.
    let mid = g.first_edge[..n].partition_point(|&f| (f as usize) < m / 2);
    let word = g.first_edge[mid] as usize / 64;
    let (low, high) = bits.0.split_at_mut(word);
    let mut carry = 0u64;
    let mut indeg2: Vec<u32> = Vec::new();
    std::thread::scope(|sc| {
        let second = sc.spawn(|| {
            let mut indeg2: Vec<u32> = crate::mem::zeroed(n + 1);
            let mut none = 0u64;
            pass.mark_from(mid..n, high, word, &mut none, &mut indeg2);
            indeg2
        });
        pass.mark(0..mid, low, &mut carry, &mut indeg);
        indeg2 = second.join().expect("essential-edge thread");
    });
    // The halves' counts added up, half of the nodes on each core.
    let half = indeg.len().div_ceil(2);
    let (a_low, a_high) = indeg.split_at_mut(half);
    let (b_low, b_high) = indeg2.split_at(half);
    let add = |a: &mut [u32], b: &[u32]| a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    std::thread::scope(|sc| {
        sc.spawn(|| add(a_high, b_high));
        add(a_low, b_low);
    });
    if let Some(w) = bits.0.get_mut(word) {
        *w |= carry;
    }
    (bits, indeg, indeg2)
}

/// The inputs of [`essential_edges`] shared by its threads.
struct Essential<'a> {
    g: &'a Graph,
    t: &'a TypeIds,
    page: &'a [bool],
    any_page: bool,
}

impl Essential<'_> {
    /// [`Essential::mark_from`] for words numbered from 0.
    fn mark(
        &self,
        nodes: std::ops::Range<usize>,
        words: &mut [u64],
        carry: &mut u64,
        indeg: &mut [u32],
    ) {
        self.mark_from(nodes, words, 0, carry, indeg)
    }

    /// Mark the essential edges out of `nodes` in `words` (the bit words `word0..`; a bit
    /// in the word just past them goes to `carry`) and count them in `indeg`.
    fn mark_from(
        &self,
        nodes: std::ops::Range<usize>,
        words: &mut [u64],
        word0: usize,
        carry: &mut u64,
        indeg: &mut [u32],
    ) {
        let (g, t, page) = (self.g, self.t, self.page);
        // The WeakMap table id named by each string, parsed once per string: a flat table,
        // as this runs for every internal edge. Ids are u32 in V8; anything else matches no
        // node.
        const UNSEEN: u32 = u32::MAX;
        const NOT_EPHEMERON: u32 = u32::MAX - 1;
        let mut weakmap_table = vec![UNSEEN; g.strings.len()];
        for v in nodes {
            crate::cancel::point(v);
            // A system object (nearly none are, in a Node heap): only then is the target's
            // flag read, a random access per edge otherwise.
            let system = self.any_page && !page[v];
            let v = v as u32;
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
                    // DevTools treats "no flags" as all-page; with no page objects at all
                    // every node compares equal and nothing is skipped.
                    if system && page[to as usize] {
                        continue;
                    }
                }
                let bit = 1u64 << (e & 63);
                match words.get_mut((e >> 6) - word0) {
                    Some(w) => *w |= bit,
                    None => *carry |= bit,
                }
                indeg[to as usize] += 1;
            }
        }
    }
}

/// The immediate dominator of every node, by semi-NCA ([`crate::seminca`]) on the
/// essential edges. `indeg` is each node's count of essential retainers and `spare` the
/// dead buffer, as [`essential_edges`] returns them; both buffers are reused.
pub fn dominators(g: &Graph, ess: &EdgeBits, indeg: Vec<u32>, spare: Vec<u32>) -> Dominators {
    let f = Forward {
        first_edge: &g.first_edge,
        edge_to: &g.edge_to,
        keep: |e| ess.get(e),
        root: g.root,
    };
    crate::seminca::dominators(&f, indeg, spare)
}

/// Retained size: own size plus everything dominated, summed bottom-up in reverse DFS order.
/// They are summed in `buf` (any contents) when it is long enough: a dead buffer of the
/// dominator pass, so their 8 bytes a node need no fresh memory.
pub fn retained_sizes(
    self_size: &crate::sizes::Sizes,
    order: &[u32],
    idom: &[u32],
    buf: Vec<u64>,
) -> Vec<u64> {
    let mut ret = if buf.len() >= idom.len() {
        let mut buf = buf;
        // Shrinking a big buffer in place gives its tail back (glibc's `mremap`) and keeps
        // the pages already mapped at its head.
        buf.truncate(idom.len());
        buf.shrink_to_fit();
        self_size.to_u64_in(buf)
    } else {
        drop(buf);
        self_size.to_u64()
    };
    for &v in order.iter().skip(1).rev() {
        let p = idom[v as usize] as usize;
        ret[p] += ret[v as usize];
    }
    ret
}

#[cfg(test)]
mod tests {
    /// Split over two threads, the essential edges and in-degrees are the one-thread ones,
    /// on graphs whose middle node starts anywhere in a 64-edge word (the shared word).
    #[test]
    fn two_halves_mark_the_same_edges_as_one_pass() {
        let types = [
            "context", "element", "property", "internal", "hidden", "shortcut", "weak",
        ];
        for seed in 1..40u64 {
            let mut rng = crate::test_rng::Rng::new(seed);
            let mut next = |k: u64| rng.below(k);
            let n = 20 + next(300) as usize;
            let mut nodes = String::new();
            let mut edges = String::new();
            let mut m = 0;
            for i in 0..n {
                let ty = if i == 0 { 2 } else { next(2) };
                let deg = next(9);
                nodes += &format!(
                    "{}{ty},1,{},8,{deg},0,0",
                    if i > 0 { "," } else { "" },
                    2 * i + 1
                );
                for _ in 0..deg {
                    let et = next(7);
                    let to = next(n as u64);
                    // Name 2 is an ephemeron edge naming node 0's table id 1.
                    let name = if et == 3 { 2 + next(2) } else { next(2) };
                    edges += &format!("{}{et},{name},{}", if m > 0 { "," } else { "" }, to * 7);
                    m += 1;
                }
            }
            let text = format!(
                r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","object","synthetic"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[{types:?},"string_or_number","node"]}},"node_count":{n},"edge_count":{m}}},"nodes":[{nodes}],"edges":[{edges}],"strings":["","a","7 / part of key (a @3) -> value (b @5) pair in WeakMap (table @1)","b"]}}"#
            );
            let g = crate::parse::parse(text.as_bytes()).expect("the test snapshot parses");
            let t = g.types();
            let page = super::page_owned(&g, &t);
            let (one, indeg1, _) = super::essential_edges_split_from(&g, &t, &page, usize::MAX);
            let (two, indeg2, _) = super::essential_edges_split_from(&g, &t, &page, 0);
            assert_eq!(one.0, two.0, "seed {seed}");
            assert_eq!(indeg1, indeg2, "seed {seed}");
            assert!(
                (0..m).any(|e| one.get(e)) && (0..m).any(|e| !one.get(e)),
                "seed {seed}"
            );
        }
    }

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
