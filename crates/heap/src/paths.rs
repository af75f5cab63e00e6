//! Retainer paths: the shortest chain of references from a root to a node, printed the way a
//! user reads it, e.g. `(GC roots) > global > responseCache (Map) > table`.

use crate::analysis::{Heap, NO_EDGE};

/// One step of a retainer path: the edge taken and the node it reached.
pub use leakhound_schema::heap::Step;

/// The path from the root to `n` along the distance BFS tree (root excluded).
pub fn path_to(h: &Heap, n: u32) -> Vec<Step> {
    let g = &h.graph;
    let mut steps = Vec::new();
    let mut v = n;
    let mut guard = 0;
    while v != g.root && guard < 10_000 {
        let e = h.parent_edge[v as usize];
        if e == NO_EDGE {
            break;
        }
        let e = e as usize;
        steps.push(Step {
            edge: g.edge_label(e, &h.t),
            edge_type: g
                .edge_types
                .get(g.edge_type[e] as usize)
                .cloned()
                .unwrap_or_default(),
            class: h.class_name(v).to_string(),
            node_id: u64::from(g.node_id[v as usize]),
        });
        // Find the source of edge e: the node whose edge range holds it.
        v = edge_source(h, e);
        guard += 1;
    }
    steps.reverse();
    steps
}

fn edge_source(h: &Heap, e: usize) -> u32 {
    let fe = &h.graph.first_edge;
    // first_edge is non-decreasing: the source is the last node whose first edge <= e.
    (fe.partition_point(|&x| x as usize <= e) - 1) as u32
}

/// `(GC roots) > global > responseCache (Map) > table > (object elements)`.
pub fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for (i, s) in steps.iter().enumerate() {
        if i > 0 {
            out.push_str(" > ");
        }
        let synthetic_or_internal = s.class.starts_with('(')
            && (i == 0 || matches!(s.edge_type.as_str(), "internal" | "hidden" | "element"));
        if i == 0
            || (synthetic_or_internal && s.edge_type != "property" && s.edge_type != "context")
        {
            if i > 0 && s.edge_type == "internal" && !s.edge.chars().all(|c| c.is_ascii_digit()) {
                out.push_str(&s.edge);
                out.push_str(" > ");
            }
            out.push_str(&s.class);
        } else {
            out.push_str(&s.edge);
            out.push_str(" (");
            out.push_str(&s.class);
            out.push(')');
        }
    }
    out
}

/// A path's shape for grouping: numbers and element indexes become `*`, so the paths to
/// many entries of one collection compare equal.
pub fn signature(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        out.push('/');
        let mut last_star = false;
        for c in s.edge.chars() {
            if c.is_ascii_digit() {
                if !last_star {
                    out.push('*');
                    last_star = true;
                }
            } else {
                out.push(c);
                last_star = false;
            }
        }
        out.push(':');
        out.push_str(&s.class);
    }
    out
}
