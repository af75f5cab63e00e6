//! The known library leak patterns of a run (`leakhound-patterns`): after the culprit hunt,
//! the suspects, the surviving allocation stacks, Node's warnings on the target's stderr and
//! the app's source files are gathered into the matchers' evidence, and what matches goes to
//! `RunReport.library_patterns`. With or without `--snapshots`: allocation stacks and the
//! warnings alone can match.

use std::path::Path;

use leakhound_patterns::{AllocStack, Evidence, Frame, SourceFile, Suspect};
use leakhound_profile::{ProfileNode, SourceMaps};
use leakhound_report::run_schema::{RunReport, Verdict};

use crate::culprit::Culprit;
use crate::target::Target;

/// The largest surviving stacks handed to the matchers.
const MAX_STACKS: usize = 500;

/// Match the patterns on what the run found and fill `r.library_patterns`. Only a run that
/// found a leak (or suspects) is matched: the patterns explain a leak, they do not find one.
pub(crate) fn fill(culprit: &Culprit, target: &Target, r: &mut RunReport) {
    if r.verdict != Verdict::Leak && r.suspects.is_empty() {
        return;
    }
    let (profile, base) = culprit.survivors();
    let stacks = profile
        .and_then(|v| serde_json::to_vec(v).ok())
        .and_then(|b| leakhound_profile::parse(&b).ok())
        .map(|p| stacks_of(&p.head, base.as_deref()))
        .unwrap_or_default();
    let stderr = target.captured.lock().unwrap().warnings.clone();
    let ev = evidence(r, stacks, stderr, base.as_deref());
    r.library_patterns = leakhound_patterns::match_patterns(&ev);
}

/// The matchers' evidence from the report's suspects and allocation sites, the stacks and
/// the warnings; the app's files are those of the command line, the sites and the stacks.
fn evidence(
    r: &RunReport,
    stacks: Vec<AllocStack>,
    stderr: Vec<String>,
    base: Option<&Path>,
) -> Evidence {
    let suspects = r
        .suspects
        .iter()
        .map(|s| Suspect {
            path: s.path.clone(),
            full_path: s.full_path.clone(),
            bytes: s.bytes,
            source: s.source.clone(),
            ..Suspect::from_title(&s.title)
        })
        .collect();
    let app_frames: Vec<String> = stacks
        .iter()
        .flat_map(|s| {
            s.frames
                .iter()
                .filter(|f| f.is_app())
                .map(|f| format!("{}:{}", f.url, f.line))
        })
        .collect();
    let sites = r
        .alloc_survivors
        .iter()
        .chain(&r.alloc_all)
        .map(|s| s.location.as_str());
    let files = crate::source_files::app_files(
        &r.command,
        sites.chain(app_frames.iter().map(String::as_str)),
        base,
    );
    let sources = crate::source_files::read(&files, base, &mut SourceMaps::new(base))
        .into_iter()
        .map(|(name, text)| SourceFile { name, text })
        .collect();
    Evidence {
        suspects,
        stacks,
        stderr,
        sources,
    }
}

/// Every sampled node's stack (outermost frame first, V8's `(root)` left out), the largest
/// [`MAX_STACKS`]; URLs shown relative to `base`, lines 1-based.
fn stacks_of(head: &ProfileNode, base: Option<&Path>) -> Vec<AllocStack> {
    let mut out = Vec::new();
    let mut path: Vec<Frame> = Vec::new();
    walk(head, base, &mut path, &mut out, true);
    out.sort_by_key(|s: &AllocStack| std::cmp::Reverse(s.bytes));
    out.truncate(MAX_STACKS);
    out
}

fn walk(
    n: &ProfileNode,
    base: Option<&Path>,
    path: &mut Vec<Frame>,
    out: &mut Vec<AllocStack>,
    root: bool,
) {
    if !root {
        path.push(frame(n, base));
    }
    if n.self_size > 0.0 && !path.is_empty() {
        out.push(AllocStack {
            bytes: n.self_size as u64,
            frames: path.clone(),
        });
    }
    for c in &n.children {
        walk(c, base, path, out, false);
    }
    if !root {
        path.pop();
    }
}

fn frame(n: &ProfileNode, base: Option<&Path>) -> Frame {
    let cf = &n.call_frame;
    let url = cf.url.strip_prefix("file://").unwrap_or(&cf.url);
    let url = match base {
        Some(b) if url.starts_with('/') => Path::new(url)
            .strip_prefix(b)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| url.to_string()),
        _ => url.to_string(),
    };
    Frame {
        function: cf.function_name.clone(),
        url,
        line: u32::try_from(cf.line_number + 1).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(
        function: &str,
        url: &str,
        line: i64,
        self_size: f64,
        children: Vec<ProfileNode>,
    ) -> ProfileNode {
        let mut n: ProfileNode = serde_json::from_value(serde_json::json!({
            "callFrame": {"functionName": function, "scriptId": "1", "url": url, "lineNumber": line, "columnNumber": 0},
            "selfSize": self_size, "id": 1, "children": []
        }))
        .unwrap();
        n.children = children;
        n
    }

    #[test]
    fn stacks_run_from_the_outermost_frame_with_paths_shown_relative() {
        let head = node(
            "(root)",
            "",
            -1,
            0.0,
            vec![node(
                "handle",
                "file:///srv/app/server.js",
                11,
                64.0,
                vec![node(
                    "use",
                    "/srv/app/node_modules/axios/lib/core/InterceptorManager.js",
                    17,
                    4096.0,
                    vec![],
                )],
            )],
        );
        let s = stacks_of(&head, Some(Path::new("/srv/app")));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].bytes, 4096);
        let shown: Vec<String> = s[0].frames.iter().map(Frame::shown).collect();
        assert_eq!(
            shown,
            [
                "handle server.js:12",
                "use node_modules/axios/lib/core/InterceptorManager.js:18"
            ]
        );
    }

    #[test]
    fn a_suspect_keeps_its_class_holder_and_path() {
        let r = RunReport {
            suspects: crate::culprit_findings::suspects(&leakhound_heap::LeaksReport {
                schema: String::new(),
                totals: [0; 3],
                leaked_objects: 30,
                leaked_retained_bytes: 9000,
                significant: true,
                groups: vec![leakhound_heap::leaks::LeakGroup {
                    class: "{labels, bucketValues}".into(),
                    instances: 30,
                    retained_bytes: 9000,
                    self_bytes: 900,
                    percent_of_heap: 1.0,
                    holder: Some("hashMap (Object)".into()),
                    path: "x_seconds (Histogram) > hashMap (Object)".into(),
                    path_steps: Vec::new(),
                    app_path: Vec::new(),
                    app_full_path: None,
                    example_node_id: 1,
                    population: [0, 30],
                    significant: true,
                    sentence: String::new(),
                }],
                grown_collections: Vec::new(),
            }),
            ..Default::default()
        };
        let ev = evidence(&r, Vec::new(), Vec::new(), None);
        assert_eq!(ev.suspects[0].class, "{labels, bucketValues}");
        assert_eq!(ev.suspects[0].holder.as_deref(), Some("hashMap (Object)"));
        assert_eq!(
            ev.suspects[0].path,
            ["x_seconds (Histogram)", "hashMap (Object)"]
        );
    }
}
