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
    // Every node is visited at most once on a BFS-tree path; the guard only stops a corrupt tree.
    while v != g.root && guard <= h.node_count() {
        let e = h.parent_edge[v as usize];
        if e == NO_EDGE {
            break;
        }
        let e = e as usize;
        steps.push(step(h, e, v));
        // Find the source of edge e: the node whose edge range holds it.
        v = edge_source(h, e);
        guard += 1;
    }
    steps.reverse();
    steps
}

/// The step along edge `e` into node `to`, as a path prints it.
pub fn step(h: &Heap, e: usize, to: u32) -> Step {
    let g = &h.graph;
    Step {
        edge: g.edge_label(e, &h.t),
        edge_type: g
            .edge_types
            .get(g.edge_type[e] as usize)
            .cloned()
            .unwrap_or_default(),
        class: h.class_name(to).to_string(),
        node_id: u64::from(g.node_id[to as usize]),
    }
}

pub(crate) fn edge_source(h: &Heap, e: usize) -> u32 {
    let fe = &h.graph.first_edge;
    // first_edge is non-decreasing: the source is the last node whose first edge <= e.
    (fe.partition_point(|&x| x as usize <= e) - 1) as u32
}

/// A path with each run of one repeated step (`_idleNext (Timeout)` down a linked list,
/// thousands deep) shown as its first step and one `(N more)` step: the path stays readable
/// and its size bounded, and the shape is the one [`crate::shapes`] groups by.
pub fn fold_runs(steps: Vec<Step>) -> Vec<Step> {
    let key = |s: &Step| {
        let edge: String = s.edge.chars().filter(|c| !c.is_ascii_digit()).collect();
        (edge, s.class.clone())
    };
    let mut out: Vec<Step> = Vec::with_capacity(steps.len().min(64));
    let mut prev: Option<(String, String)> = None;
    let mut run = 0usize;
    for s in steps {
        let k = key(&s);
        if prev.as_ref() == Some(&k) {
            run += 1;
            let id = s.node_id;
            if run == 1 {
                out.push(s);
            }
            let last = out.last_mut().expect("a run follows a step");
            last.edge = format!("{} ({run} more)", k.0);
            last.node_id = id;
        } else {
            run = 0;
            out.push(s);
            prev = Some(k);
        }
    }
    out
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
        push_starred(&mut out, &s.edge);
        out.push(':');
        out.push_str(&s.class);
    }
    out
}

/// `edge` onto `out` with each run of digits written as one `*`.
pub(crate) fn push_starred(out: &mut String, edge: &str) {
    let mut last_star = false;
    for c in edge.chars() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(edge: &str, class: &str, id: u64) -> Step {
        Step {
            edge: edge.into(),
            edge_type: "property".into(),
            class: class.into(),
            node_id: id,
        }
    }

    #[test]
    fn a_linked_list_folds_into_its_first_step_and_a_count() {
        let mut steps = vec![
            step("timerListMap", "Object", 1),
            step("3600000", "TimersList", 2),
        ];
        for i in 0..5000 {
            steps.push(step("_idleNext", "Timeout", 10 + i));
        }
        steps.push(step("_onTimeout", "Function", 99));
        let folded = fold_runs(steps);
        let edges: Vec<&str> = folded.iter().map(|s| s.edge.as_str()).collect();
        assert_eq!(
            edges,
            [
                "timerListMap",
                "3600000",
                "_idleNext",
                "_idleNext (4999 more)",
                "_onTimeout"
            ]
        );
        assert_eq!(folded[3].node_id, 10 + 4999);
        // Elements of an array of arrays fold by shape, not by index.
        let folded = fold_runs(vec![
            step("[3]", "Array", 1),
            step("[7]", "Array", 2),
            step("[1]", "Array", 3),
        ]);
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[1].edge, "[] (2 more)");
    }
}
