//! The allocation flame graph of the HTML report: both sampling profiles' call trees
//! (`RunReport.alloc_trees`, already cut small by the producer) drawn as icicles in inline
//! SVG, the callers on top and each frame as wide as the bytes allocated under it. No script:
//! each frame's `<title>` is its tooltip (function, `file:line`, bytes and share), so the page
//! stays offline and static like the rest of the report.

use std::fmt::Write;

use crate::escape::html as esc;
use crate::format;
use crate::run_schema::{AllocTree, RunReport};
use leakhound_schema::alloc::FrameKind;

/// The drawing's width in SVG units (it scales to the page).
const WIDTH: f64 = 1000.0;
const ROW: f64 = 18.0;
/// Frames narrower than this are not drawn (their bytes show in the caller's width).
const MIN_WIDTH: f64 = 0.6;
/// Labels need this much room.
const LABEL_WIDTH: f64 = 42.0;
/// Rows below this depth are not drawn.
const MAX_DEPTH: usize = 48;

/// Colours by frame kind: the app's own code stands out, the rest is muted.
fn colour(kind: FrameKind) -> &'static str {
    match kind {
        FrameKind::User => "#e8743b",
        FrameKind::Dependency => "#b48ad6",
        FrameKind::NodeInternal => "#8fb3d9",
        FrameKind::Native => "#bcc2cc",
    }
}

/// The section: one icicle per profile taken. Nothing when the run has no trees.
pub(crate) fn html(o: &mut String, r: &RunReport) {
    let Some(t) = &r.alloc_trees else { return };
    if t.all.is_none() && t.survivors.is_none() {
        return;
    }
    o.push_str(
        "<h2>Allocation flame graph</h2><p class=\"note\">Callers on top; each frame is as wide \
         as the sampled bytes allocated in it and in what it called. Hover a frame for its \
         function, <code>file:line</code> and bytes. <span style=\"color:#e8743b\">■</span> the \
         app's code, <span style=\"color:#b48ad6\">■</span> packages, <span \
         style=\"color:#8fb3d9\">■</span> Node, <span style=\"color:#bcc2cc\">■</span> V8 \
         built-ins.</p>",
    );
    for (tree, title, note) in [
        (
            &t.survivors,
            "What survives",
            "Allocations still alive at the end: a leak's call path is here.",
        ),
        (
            &t.all,
            "All allocations",
            "Garbage included: where allocation pressure comes from.",
        ),
    ] {
        if let Some(tree) = tree {
            figure(o, tree, title, note);
        }
    }
}

fn figure(o: &mut String, t: &AllocTree, title: &str, note: &str) {
    let _ = write!(
        o,
        "<figure class=\"flame-fig\"><figcaption>{}</figcaption><p class=\"note\">{} {} sampled; \
         frames under {} folded into their caller.</p>",
        esc(title),
        esc(note),
        esc(&format::bytes(t.total_bytes as f64)),
        esc(&format::bytes(t.floor_bytes as f64))
    );
    o.push_str(&svg(t));
    o.push_str("</figure>");
}

/// The icicle of one tree as an `<svg class="flame">` whose `data-nodes` counts the frames
/// drawn.
pub(crate) fn svg(t: &AllocTree) -> String {
    let total = t.nodes.first().map_or(0, |n| n.total_bytes).max(1) as f64;
    // (node, x, width, depth), parents before children.
    let mut placed: Vec<(usize, f64, f64, usize)> = Vec::new();
    let mut stack: Vec<(usize, f64, f64, usize)> = Vec::new();
    if !t.nodes.is_empty() {
        stack.push((0, 0.0, WIDTH, 0));
    }
    while let Some((i, x, w, depth)) = stack.pop() {
        placed.push((i, x, w, depth));
        if depth + 1 >= MAX_DEPTH {
            continue;
        }
        let n = &t.nodes[i];
        let mut cx = x;
        for &c in &n.children {
            let Some(child) = t.nodes.get(c as usize) else {
                continue;
            };
            // Children come after their parent: a malformed tree cannot loop.
            if c as usize <= i {
                continue;
            }
            let cw = w * child.total_bytes as f64 / n.total_bytes.max(1) as f64;
            if cw >= MIN_WIDTH {
                stack.push((c as usize, cx, cw, depth + 1));
            }
            cx += cw;
        }
    }
    let depth = placed.iter().map(|p| p.3).max().unwrap_or(0) + 1;
    let height = depth as f64 * ROW;
    let mut s = String::with_capacity(placed.len() * 200 + 256);
    let _ = write!(
        s,
        "<svg class=\"flame\" data-nodes=\"{}\" viewBox=\"0 0 {WIDTH} {height}\" \
         preserveAspectRatio=\"none\" role=\"img\" aria-label=\"allocation flame graph\">",
        placed.len()
    );
    for (i, x, w, d) in placed {
        let n = &t.nodes[i];
        let y = d as f64 * ROW;
        let share = 100.0 * n.total_bytes as f64 / total;
        let _ = write!(
            s,
            "<g><title>{} {}&#10;{} ({share:.1}%), self {}</title>\
             <rect class=\"fl-node\" x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"/>",
            esc(&n.function),
            esc(&n.location),
            esc(&format::bytes(n.total_bytes as f64)),
            esc(&format::bytes(n.self_bytes as f64)),
            ROW - 1.0,
            colour(n.kind)
        );
        if w >= LABEL_WIDTH {
            // About 6.5 units a character at the label's size.
            let fit = ((w - 6.0) / 6.5) as usize;
            let label: String = if n.function.chars().count() > fit {
                let mut l: String = n.function.chars().take(fit.saturating_sub(1)).collect();
                l.push('…');
                l
            } else {
                n.function.clone()
            };
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x + 3.0,
                y + 12.5,
                esc(&label)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// The flame graph's styles, added to the report's.
pub(crate) const CSS: &str = "svg.flame{width:100%;height:auto;display:block;margin-top:6px;\
font-size:11px}svg.flame rect{stroke:#fff;stroke-width:.5}svg.flame g:hover rect{stroke:#1d2330;\
stroke-width:1}svg.flame text{fill:#1d2330;pointer-events:none}.flame-fig{margin-bottom:14px}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_schema::{AllocTreeNode, AllocTrees};

    fn node(f: &str, total: u64, children: Vec<u32>, kind: FrameKind) -> AllocTreeNode {
        AllocTreeNode {
            function: f.into(),
            location: format!("app.js:{total}"),
            kind,
            self_bytes: 0,
            total_bytes: total,
            children,
            cut_bytes: 0,
        }
    }

    fn tree() -> AllocTree {
        AllocTree {
            total_bytes: 1000,
            floor_bytes: 5,
            nodes: vec![
                node("(root)", 1000, vec![1, 3], FrameKind::Native),
                node("handler<script>", 600, vec![2], FrameKind::User),
                node("remember", 600, vec![], FrameKind::User),
                node("speck", 0, vec![], FrameKind::NodeInternal),
            ],
        }
    }

    #[test]
    fn frames_are_as_wide_as_their_bytes_and_names_are_escaped() {
        let s = svg(&tree());
        // The zero-byte frame is too narrow to draw.
        assert!(s.contains("data-nodes=\"3\""), "{s}");
        assert!(s.contains("x=\"0.0\" y=\"18\" width=\"600.0\""), "{s}");
        assert!(s.contains("x=\"0.0\" y=\"36\" width=\"600.0\""), "{s}");
        assert!(
            s.contains("handler&lt;script&gt; app.js:600&#10;600 B (60.0%)"),
            "{s}"
        );
        assert!(!s.contains("<script>"));
        assert_eq!(s.matches("fill=\"#e8743b\"").count(), 2);
    }

    #[test]
    fn a_section_per_profile_and_nothing_without_trees() {
        let mut r = RunReport::default();
        let mut o = String::new();
        html(&mut o, &r);
        assert!(o.is_empty());
        r.alloc_trees = Some(AllocTrees {
            all: Some(tree()),
            survivors: Some(tree()),
        });
        html(&mut o, &r);
        assert_eq!(o.matches("<svg class=\"flame\"").count(), 2);
        assert!(o.find("What survives").unwrap() < o.find("All allocations").unwrap());
    }

    #[test]
    fn a_malformed_tree_does_not_loop() {
        let mut t = tree();
        t.nodes[2].children = vec![0, 2, 99];
        let s = svg(&t);
        assert!(s.contains("data-nodes=\"3\""), "{s}");
    }
}
