//! The dominator tree and retained sizes, computed exactly as Chrome DevTools does
//! (devtools-frontend@138048f, `HeapSnapshot.ts`): the same "essential" edges, the same
//! Lengauer–Tarjan variant, the same treatment of nodes reachable only through weak edges.
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
    fn set(&mut self, i: usize) {
        self.0[i >> 6] |= 1 << (i & 63);
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
/// retainers (counted here, where each edge is looked at anyway, to save the dominator pass a
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

/// The immediate dominator of every node, by semi-NCA ([`crate::seminca`]) on the
/// essential edges. `indeg` is each node's count of essential retainers, as
/// [`essential_edges`] returns it; its buffer is reused.
pub fn dominators(g: &Graph, ess: &EdgeBits, indeg: Vec<u32>) -> Dominators {
    let f = Forward {
        first_edge: &g.first_edge,
        edge_to: &g.edge_to,
        keep: |e| ess.get(e),
        root: g.root,
    };
    crate::seminca::dominators(&f, indeg)
}

/// Retained size: own size plus everything dominated, summed bottom-up in reverse DFS order.
pub fn retained_sizes(self_size: &[u64], order: &[u32], idom: &[u32]) -> Vec<u64> {
    let mut ret = self_size.to_vec();
    for &v in order.iter().skip(1).rev() {
        let p = idom[v as usize] as usize;
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
