//! The top of the dominator tree, cut to a size a web page can embed: the nodes that retain
//! the most, each with its children by retained size and its retainer path. A 4 GB snapshot
//! has 55 M nodes; a page that must open in a second holds a few thousand, so the cut is by
//! count (the biggest first, always with their parents) and by a retained-size floor.

use crate::analysis::Heap;
use crate::paths::{path_to, render};
use serde::Serialize;
use std::collections::BinaryHeap;

/// Nodes kept when the caller does not say: about 1 MB of page on any snapshot.
pub const DEFAULT_MAX_NODES: usize = 3000;
/// Children below this share of the heap are summed, not listed (the node budget is what
/// bounds the page; the floor keeps crumbs out of it).
pub const DEFAULT_FLOOR_SHARE: f64 = 0.000_001;
/// Retainer paths longer than this keep their first and last steps.
const MAX_PATH_CHARS: usize = 400;

/// One kept node. `children` are indices into [`DomTree::nodes`], biggest first.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DomNode {
    pub class: String,
    pub node_id: u64,
    pub self_bytes: u64,
    pub retained_bytes: u64,
    /// The shortest path from a root (DevTools' distance tree), as `heap summary` prints it.
    pub path: String,
    pub children: Vec<u32>,
    /// Dominated children left out (under the floor or past the node budget): how many,
    /// and their retained bytes together.
    pub more_count: u64,
    pub more_bytes: u64,
    /// The node's ordinal in the snapshot (not in the page: ids are what users see).
    #[serde(skip)]
    pub ordinal: u32,
}

/// The kept part of the tree; `nodes[0]` is the snapshot's root.
#[derive(Debug, Clone, Serialize)]
pub struct DomTree {
    pub total_bytes: u64,
    /// Nodes retaining less than this were left out.
    pub floor_bytes: u64,
    pub nodes: Vec<DomNode>,
}

/// The biggest `max_nodes` nodes of the dominator tree (by retained size, each with its
/// dominator chain up to the root), none retaining less than `floor_bytes`.
pub fn dominator_tree(h: &Heap, max_nodes: usize, floor_bytes: u64) -> DomTree {
    let root = h.graph.root;
    let mut nodes = vec![node(h, root)];
    // Max-heap of (retained, node ordinal, kept parent index): the frontier of the kept part.
    let mut frontier: BinaryHeap<(u64, std::cmp::Reverse<u32>, u32)> = BinaryHeap::new();
    let push_children = |frontier: &mut BinaryHeap<_>, v: u32, at: u32| {
        for &k in h.children(v) {
            let r = h.retained[k as usize];
            if r >= floor_bytes.max(1) {
                frontier.push((r, std::cmp::Reverse(k), at));
            }
        }
    };
    push_children(&mut frontier, root, 0);
    while nodes.len() < max_nodes.max(1) {
        let Some((_, std::cmp::Reverse(v), parent)) = frontier.pop() else {
            break;
        };
        let at = nodes.len() as u32;
        nodes.push(node(h, v));
        nodes[parent as usize].children.push(at);
        push_children(&mut frontier, v, at);
    }
    // What each kept node leaves out: all its dominated children less the kept ones.
    for i in 0..nodes.len() {
        let kept: u64 = nodes[i]
            .children
            .iter()
            .map(|&c| nodes[c as usize].retained_bytes)
            .sum();
        let n = nodes[i].children.len() as u64;
        let v = nodes[i].ordinal;
        let all = h.children(v);
        let all_bytes: u64 = all.iter().map(|&k| h.retained[k as usize]).sum();
        nodes[i].more_count = all.len() as u64 - n;
        nodes[i].more_bytes = all_bytes - kept;
    }
    DomTree {
        total_bytes: h.total,
        floor_bytes,
        nodes,
    }
}

/// The floor for a heap of `total` bytes: [`DEFAULT_FLOOR_SHARE`] of it.
pub fn default_floor(total: u64) -> u64 {
    (total as f64 * DEFAULT_FLOOR_SHARE) as u64
}

fn node(h: &Heap, v: u32) -> DomNode {
    let mut path = render(&path_to(h, v));
    if path.len() > MAX_PATH_CHARS {
        let head = floor_char(&path, MAX_PATH_CHARS / 2);
        let tail = ceil_char(&path, path.len() - MAX_PATH_CHARS / 2);
        path = format!("{} … {}", &path[..head], &path[tail..]);
    }
    DomNode {
        class: h.class_name(v).to_string(),
        node_id: u64::from(h.graph.node_id[v as usize]),
        self_bytes: h.self_size.get(v as usize),
        retained_bytes: h.retained[v as usize],
        path,
        children: Vec::new(),
        more_count: 0,
        more_bytes: 0,
        ordinal: v,
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// root → a (100 + b 40 + c 24) and root → d (16): the kept tree, biggest first, and
    /// what a budget of three nodes leaves out.
    #[test]
    fn biggest_first_with_what_is_left_out() {
        let g = crate::parse::parse(crate::replicate::tests::SMALL.as_bytes()).unwrap();
        let h = Heap::from_graph(g);
        let t = dominator_tree(&h, 100, 1);
        assert_eq!(t.total_bytes, 180);
        let names: Vec<(&str, u64)> = t
            .nodes
            .iter()
            .map(|n| (n.class.as_str(), n.retained_bytes))
            .collect();
        assert_eq!(names[0].1, 180);
        let root_kids: Vec<u64> = t.nodes[0]
            .children
            .iter()
            .map(|&c| t.nodes[c as usize].retained_bytes)
            .collect();
        assert_eq!(root_kids, vec![164, 16]);
        let foo = &t.nodes[t.nodes[0].children[0] as usize];
        assert_eq!((foo.class.as_str(), foo.self_bytes), ("Foo", 100));
        assert_eq!(foo.children.len(), 2);
        assert_eq!(foo.path, "Foo");
        let bar = &t.nodes[foo.children[0] as usize];
        assert_eq!(
            (bar.class.as_str(), bar.path.as_str()),
            ("Bar", "Foo > b (Bar)")
        );
        assert_eq!((foo.more_count, foo.more_bytes), (0, 0));

        let cut = dominator_tree(&h, 3, 1);
        assert_eq!(cut.nodes.len(), 3);
        // Root, Foo (164) and Bar (40): Baz (16) under the root and the string under Foo
        // are left out.
        assert_eq!((cut.nodes[0].more_count, cut.nodes[0].more_bytes), (1, 16));
        let foo = &cut.nodes[1];
        assert_eq!((foo.more_count, foo.more_bytes), (1, 24));
        // The floor drops small nodes whatever the budget.
        let floored = dominator_tree(&h, 100, 30);
        assert_eq!(floored.nodes.len(), 3);
        assert_eq!(floored.floor_bytes, 30);
    }
}
