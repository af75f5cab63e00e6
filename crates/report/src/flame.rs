//! The allocation flame graph of the HTML report: both sampling profiles' call trees
//! (`RunReport.alloc_trees`, already cut small by the producer) drawn as icicles in inline
//! SVG, the callers on top and each frame as wide as the bytes allocated under it. No script:
//! each frame's `<title>` is its tooltip (function, `file:line`, bytes and share), so the page
//! stays offline and static like the rest of the report.
//!
//! The Markdown summary cannot draw, so it gets the graph's gist as text ([`markdown`]): per
//! profile, the call paths where the most bytes were allocated (a frame's own bytes plus its
//! folded callees'), each path told caller › callee with Node's and V8's long runs of frames
//! elided and every app frame kept.

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

/// Paths listed per profile in the Markdown summary.
const MD_PATHS: usize = 5;
/// Frames shown of a path before the non-app frames in its middle are elided.
const MD_FRAMES: usize = 6;

/// The Markdown form: a table of the heaviest call paths of each profile taken. Nothing when
/// the run has no trees.
pub(crate) fn markdown(o: &mut String, r: &RunReport) {
    let Some(t) = &r.alloc_trees else { return };
    for (tree, title) in [(&t.survivors, "What survives"), (&t.all, "All allocations")] {
        let Some(tree) = tree else { continue };
        let paths = heaviest_paths(tree, MD_PATHS);
        if paths.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "**Allocation paths: {title}** ({} sampled; caller › callee, app frames in bold)\n\n\
             | Bytes | Share | Path |\n|---:|---:|---|",
            format::bytes(tree.total_bytes as f64)
        );
        let total = tree.nodes.first().map_or(0, |n| n.total_bytes).max(1) as f64;
        for (bytes, path) in paths {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                format::bytes(bytes as f64),
                format::percent(bytes as f64 / total),
                path_text(tree, &path)
            );
        }
        o.push('\n');
    }
}

/// The `n` frames where the most bytes stop (own bytes plus the folded callees'), heaviest
/// first, each with its path from the root's first callee down to it.
fn heaviest_paths(t: &AllocTree, n: usize) -> Vec<(u64, Vec<usize>)> {
    // Parents from the children lists (children follow their parent: a malformed tree
    // cannot loop, as in `svg`).
    let mut parent = vec![usize::MAX; t.nodes.len()];
    for (i, node) in t.nodes.iter().enumerate() {
        for &c in &node.children {
            let c = c as usize;
            if c > i && c < t.nodes.len() && parent[c] == usize::MAX {
                parent[c] = i;
            }
        }
    }
    let mut ends: Vec<(u64, usize)> = t
        .nodes
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, _)| parent[*i] != usize::MAX)
        .map(|(i, node)| (node.self_bytes + node.cut_bytes, i))
        .filter(|(b, _)| *b > 0)
        .collect();
    ends.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ends.truncate(n);
    ends.into_iter()
        .map(|(b, i)| {
            let mut path = vec![i];
            let mut at = i;
            while parent[at] != usize::MAX && parent[at] != 0 {
                at = parent[at];
                path.push(at);
            }
            path.reverse();
            (b, path)
        })
        .collect()
}

/// `**handler** app.js:10 › … › **remember** app.js:20`: app frames bold; past
/// [`MD_FRAMES`] frames, only the app's frames and the last two are kept, each run of the
/// others told as `…`.
fn path_text(t: &AllocTree, path: &[usize]) -> String {
    let keep = |k: usize| {
        path.len() <= MD_FRAMES || k + 2 >= path.len() || t.nodes[path[k]].kind == FrameKind::User
    };
    let mut parts: Vec<String> = Vec::new();
    for (k, &i) in path.iter().enumerate() {
        if !keep(k) {
            if parts.last().map(String::as_str) != Some("…") {
                parts.push("…".into());
            }
            continue;
        }
        let n = &t.nodes[i];
        let name = crate::escape::markdown(&n.function);
        let name = if n.kind == FrameKind::User {
            format!("**{name}**")
        } else {
            name
        };
        parts.push(if n.location.is_empty() {
            name
        } else {
            format!("{name} {}", crate::escape::markdown(&n.location))
        });
    }
    parts.join(" › ")
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
    fn markdown_lists_the_heaviest_paths_of_both_profiles() {
        let mut r = RunReport::default();
        let mut o = String::new();
        markdown(&mut o, &r);
        assert!(o.is_empty());
        let mut t = tree();
        t.nodes[2].self_bytes = 550;
        t.nodes[2].cut_bytes = 50;
        t.nodes[3].self_bytes = 0;
        t.nodes[0].children.push(4);
        t.nodes.push(AllocTreeNode {
            self_bytes: 300,
            ..node("parse|x", 300, vec![], FrameKind::NodeInternal)
        });
        r.alloc_trees = Some(AllocTrees {
            all: Some(t.clone()),
            survivors: Some(t),
        });
        markdown(&mut o, &r);
        assert_eq!(o.matches("| Bytes | Share | Path |").count(), 2, "{o}");
        assert!(
            o.find("Allocation paths: What survives").unwrap()
                < o.find("Allocation paths: All allocations").unwrap()
        );
        // The heaviest first, its app frames bold, the table's `|` escaped; a frame with no
        // bytes of its own is not listed.
        let rows: Vec<&str> = o.lines().filter(|l| l.starts_with("| 6")).collect();
        assert_eq!(
            rows[0],
            "| 600 B | 60.0% | **handler&lt;script&gt;** app.js:600 › **remember** app.js:600 |",
            "{o}"
        );
        assert!(
            o.contains("| 300 B | 30.0% | parse\\|x app.js:300 |"),
            "{o}"
        );
        assert!(!o.contains("speck"), "{o}");
    }

    #[test]
    fn long_paths_keep_the_app_frames_and_the_last_two() {
        let kinds = [
            FrameKind::NodeInternal,
            FrameKind::NodeInternal,
            FrameKind::User,
            FrameKind::Dependency,
            FrameKind::Dependency,
            FrameKind::Dependency,
            FrameKind::Native,
            FrameKind::Native,
        ];
        let mut nodes = vec![node("(root)", 100, vec![1], FrameKind::Native)];
        for (k, kind) in kinds.iter().enumerate() {
            let last = k + 1 == kinds.len();
            let children = if last { vec![] } else { vec![k as u32 + 2] };
            let mut n = node(&format!("f{k}"), 100, children, *kind);
            n.self_bytes = if last { 100 } else { 0 };
            nodes.push(n);
        }
        let t = AllocTree {
            total_bytes: 100,
            floor_bytes: 1,
            nodes,
        };
        let p = heaviest_paths(&t, 5);
        assert_eq!(p.len(), 1);
        assert_eq!(
            path_text(&t, &p[0].1),
            "… › **f2** app.js:100 › … › f6 app.js:100 › f7 app.js:100"
        );
    }

    #[test]
    fn a_malformed_tree_does_not_loop() {
        let mut t = tree();
        t.nodes[2].children = vec![0, 2, 99];
        let s = svg(&t);
        assert!(s.contains("data-nodes=\"3\""), "{s}");
    }
}
