//! The profile's call tree cut small for a flame graph: frames whose subtree allocated less
//! than a share of the total fold into their caller (`cut_bytes`), and at most a node budget
//! is kept, so a report page stays small whatever the profile's size. Walked with explicit
//! stacks: V8's trees can be deeper than a thread's stack allows for recursion.

use std::path::Path;

use crate::model::{Profile, ProfileNode};
use crate::sites::site_of;
use crate::sourcemap::SourceMaps;
use leakhound_schema::alloc::FrameKind;
pub use leakhound_schema::alloc_tree::{AllocTree, AllocTreeNode};

/// Subtrees under this share of the profile's bytes are folded into their caller.
pub const DEFAULT_MIN_SHARE: f64 = 0.005;
/// At most this many frames are kept (the biggest subtrees).
pub const DEFAULT_MAX_NODES: usize = 150;

/// The cut tree of `profile`: frames with at least `min_share` of the bytes, at most
/// `max_nodes` of them. `base` and `maps` place frames as the allocation sites are placed.
pub fn cut_tree(
    profile: &Profile,
    base: Option<&Path>,
    min_share: f64,
    max_nodes: usize,
    mut maps: Option<&mut SourceMaps>,
) -> AllocTree {
    // Preorder of the whole tree with each node's parent.
    let mut flat: Vec<(&ProfileNode, usize)> = Vec::new();
    let mut stack: Vec<(&ProfileNode, usize)> = vec![(&profile.head, usize::MAX)];
    while let Some((n, parent)) = stack.pop() {
        let me = flat.len();
        flat.push((n, parent));
        for c in n.children.iter().rev() {
            stack.push((c, me));
        }
    }
    let self_of = |n: &ProfileNode| {
        if n.self_size.is_finite() && n.self_size > 0.0 {
            n.self_size as u64
        } else {
            0
        }
    };
    // Subtree totals: children come after their parent in preorder.
    let mut total: Vec<u64> = flat.iter().map(|(n, _)| self_of(n)).collect();
    for i in (1..flat.len()).rev() {
        let p = flat[i].1;
        total[p] = total[p].saturating_add(total[i]);
    }
    let sum = total.first().copied().unwrap_or(0);
    let mut floor = ((sum as f64 * min_share).ceil() as u64).max(1);
    let max_nodes = max_nodes.max(1);
    if flat.len() > max_nodes {
        let mut sizes = total.clone();
        let k = max_nodes - 1;
        sizes.select_nth_unstable_by(k, |a, b| b.cmp(a));
        // Ties at the k-th biggest are kept in preorder until the budget is spent.
        floor = floor.max(sizes[k]);
    }
    // Keep the root and every subtree at the floor (a kept node's caller is kept too, as its
    // total is at least as big).
    let mut index = vec![u32::MAX; flat.len()];
    let mut nodes: Vec<AllocTreeNode> = Vec::new();
    let mut below_node = vec![false; flat.len()];
    for i in 0..flat.len() {
        let (n, p) = flat[i];
        if i > 0 && (total[i] < floor || index[p] == u32::MAX || nodes.len() >= max_nodes) {
            continue;
        }
        let inherited = i > 0 && below_node[p];
        let site = site_of(&n.call_frame, base, inherited, maps.as_deref_mut());
        below_node[i] = inherited || site.kind == FrameKind::NodeInternal;
        index[i] = nodes.len() as u32;
        if i > 0 {
            let pi = index[p] as usize;
            nodes[pi].children.push(index[i]);
        }
        nodes.push(AllocTreeNode {
            function: site.function.clone(),
            location: site.location(),
            kind: site.kind,
            self_bytes: self_of(n),
            total_bytes: total[i],
            children: Vec::new(),
            cut_bytes: 0,
        });
    }
    for i in 0..nodes.len() {
        let mut kids = std::mem::take(&mut nodes[i].children);
        kids.sort_by(|&a, &b| {
            nodes[b as usize]
                .total_bytes
                .cmp(&nodes[a as usize].total_bytes)
                .then(a.cmp(&b))
        });
        let kept: u64 = kids.iter().map(|&k| nodes[k as usize].total_bytes).sum();
        nodes[i].cut_bytes = nodes[i]
            .total_bytes
            .saturating_sub(nodes[i].self_bytes)
            .saturating_sub(kept);
        nodes[i].children = kids;
    }
    AllocTree {
        total_bytes: sum,
        floor_bytes: floor,
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CallFrame;

    fn node(name: &str, url: &str, self_size: f64, children: Vec<ProfileNode>) -> ProfileNode {
        ProfileNode {
            call_frame: CallFrame {
                function_name: name.into(),
                script_id: "7".into(),
                url: url.into(),
                line_number: 9,
                column_number: 0,
            },
            self_size,
            id: 0,
            children,
        }
    }

    fn profile() -> Profile {
        // root 0 → handler (100 self) → cache (5000) + tiny (10); root → gc garbage (4890)
        Profile {
            head: node(
                "(root)",
                "",
                0.0,
                vec![
                    node(
                        "handler",
                        "file:///app/server.js",
                        100.0,
                        vec![
                            node("remember", "file:///app/server.js", 5000.0, vec![]),
                            node("tiny", "file:///app/server.js", 10.0, vec![]),
                        ],
                    ),
                    node("parse", "node:internal/url", 4890.0, vec![]),
                    node("neg", "file:///app/x.js", -5.0, vec![]),
                ],
            ),
            samples: vec![],
        }
    }

    #[test]
    fn small_subtrees_fold_into_their_caller() {
        let t = cut_tree(&profile(), Some(Path::new("/app")), 0.01, 100, None);
        assert_eq!(t.total_bytes, 10_000);
        assert_eq!(t.floor_bytes, 100);
        let names: Vec<&str> = t.nodes.iter().map(|n| n.function.as_str()).collect();
        assert_eq!(names, ["(root)", "handler", "remember", "parse"]);
        let h = &t.nodes[1];
        assert_eq!((h.total_bytes, h.self_bytes, h.cut_bytes), (5110, 100, 10));
        assert_eq!(h.location, "server.js:10");
        assert_eq!(h.kind, FrameKind::User);
        assert_eq!(t.nodes[3].kind, FrameKind::NodeInternal);
        // Children biggest first; totals add up.
        assert_eq!(t.nodes[0].children, [1, 3]);
        let root = &t.nodes[0];
        let kids: u64 = root
            .children
            .iter()
            .map(|&k| t.nodes[k as usize].total_bytes)
            .sum();
        assert_eq!(kids + root.self_bytes + root.cut_bytes, root.total_bytes);
    }

    #[test]
    fn the_node_budget_keeps_the_biggest_subtrees() {
        let t = cut_tree(&profile(), None, 0.0, 3, None);
        let names: Vec<&str> = t.nodes.iter().map(|n| n.function.as_str()).collect();
        assert_eq!(names, ["(root)", "handler", "remember"]);
        assert_eq!(t.nodes[0].cut_bytes, 4890);
        // A deep chain (deeper than a recursive walk could go) is walked.
        let mut deep = node("leaf", "file:///app/a.js", 1.0, vec![]);
        for i in 0..200_000 {
            deep = node(&format!("f{i}"), "file:///app/a.js", 0.0, vec![deep]);
        }
        let p = Profile {
            head: deep,
            samples: vec![],
        };
        let t = cut_tree(&p, None, 0.5, 10, None);
        assert_eq!(t.nodes.len(), 10);
        assert_eq!(t.total_bytes, 1);
        std::mem::forget(p);
    }
}
