//! Aggregation of a sampling profile into allocation sites.

use std::collections::HashMap;
use std::path::Path;

use crate::model::{CallFrame, Profile, ProfileNode};
use crate::sourcemap::SourceMaps;

pub use leakhound_schema::alloc::{AllocSummary, FrameKind, Generated, Site, SiteStat};

/// The site of one frame. `below_node` says whether Node's own code is above this frame on the stack: a frame
/// whose script lost its URL is user code when Node called into it, and part of Node's
/// bootstrap when it is outermost. With `maps`, a frame of a script that has a source map is
/// placed in the original source (V8 gives the function's start, so that is what is mapped).
pub(crate) fn site_of(
    frame: &CallFrame,
    base: Option<&Path>,
    below_node: bool,
    maps: Option<&mut SourceMaps>,
) -> Site {
    let function = if frame.function_name.is_empty() {
        "(anonymous)".to_string()
    } else {
        frame.function_name.clone()
    };
    let kind = match classify(frame) {
        FrameKind::User if frame.url.is_empty() && !below_node => FrameKind::NodeInternal,
        k => k,
    };
    let file = display_file(frame, base);
    let one_based = |v: i64| u32::try_from(v).ok().map(|v| v.saturating_add(1));
    let (line, column) = (one_based(frame.line_number), one_based(frame.column_number));
    let mapped = match (maps, line, column) {
        (Some(maps), Some(l), Some(c))
            if matches!(kind, FrameKind::User | FrameKind::Dependency) =>
        {
            maps.map(&frame.url, l - 1, c - 1)
        }
        _ => None,
    };
    match mapped {
        Some(m) => Site {
            function,
            // A bundle holds its dependencies too: the map tells them apart from the app's code.
            kind: if m.file.starts_with("node_modules/") || m.file.contains("/node_modules/") {
                FrameKind::Dependency
            } else {
                kind
            },
            file: m.file,
            line: Some(m.line.saturating_add(1)),
            column: Some(m.column.saturating_add(1)),
            generated: Some(Generated {
                file,
                line: line.unwrap_or(0),
                column: column.unwrap_or(0),
            }),
        },
        None => Site {
            function,
            file,
            line,
            column,
            kind,
            generated: None,
        },
    }
}

fn classify(frame: &CallFrame) -> FrameKind {
    let url = frame.url.as_str();
    if url.is_empty() {
        // Built-ins and pseudo-frames have script 0. A real script can lose its URL too:
        // `node --heap-prof` writes its profile at teardown, when user scripts' URLs are gone.
        let builtin =
            matches!(frame.script_id.as_str(), "" | "0") || frame.function_name.starts_with('(');
        if builtin {
            FrameKind::Native
        } else {
            FrameKind::User
        }
    } else if url.starts_with("node:") {
        FrameKind::NodeInternal
    } else if url.contains("/node_modules/") {
        FrameKind::Dependency
    } else {
        FrameKind::User
    }
}

fn display_file(frame: &CallFrame, base: Option<&Path>) -> String {
    let url = frame.url.as_str();
    if url.is_empty() {
        return match classify(frame) {
            FrameKind::Native => "(native)".to_string(),
            _ => format!("script {}", frame.script_id),
        };
    }
    let path = url.strip_prefix("file://").unwrap_or(url);
    if let Some(base) = base {
        if let Ok(rel) = Path::new(path).strip_prefix(base) {
            return rel.to_string_lossy().into_owned();
        }
    }
    path.to_string()
}

/// Aggregate a profile. `base` makes file names relative (usually the target's working
/// directory); `top` bounds both lists. Positions are the generated code's: see
/// [`summarize_mapped`] for the original sources.
pub fn summarize(profile: &Profile, base: Option<&Path>, top: usize) -> AllocSummary {
    summarize_inner(profile, base, top, None)
}

/// [`summarize`], with every frame of a script that has a source map placed in the original
/// source (the generated position kept in [`Site::generated`]). Frames that map to the same
/// original function are one site.
pub fn summarize_mapped(
    profile: &Profile,
    base: Option<&Path>,
    top: usize,
    maps: &mut SourceMaps,
) -> AllocSummary {
    summarize_inner(profile, base, top, Some(maps))
}

fn summarize_inner(
    profile: &Profile,
    base: Option<&Path>,
    top: usize,
    maps: Option<&mut SourceMaps>,
) -> AllocSummary {
    let flat = Flat::build(&profile.head, base, maps);
    // Only positive sizes are charged below, so only they count in the total: a damaged
    // profile with a negative size must not push a site's share over 100%.
    let total: f64 = flat.self_size.iter().filter(|&&s| s > 0.0).sum();
    let total_bytes = total.max(0.0).round() as u64;

    let mut by_self = vec![0f64; flat.sites.len()];
    let mut by_culprit = vec![0f64; flat.sites.len()];
    // The heaviest node charged to each site, to show one representative path.
    let mut heaviest_self: Vec<Option<(f64, usize)>> = vec![None; flat.sites.len()];
    let mut heaviest_culprit: Vec<Option<(f64, usize)>> = vec![None; flat.sites.len()];
    for n in 0..flat.site.len() {
        let size = flat.self_size[n];
        if size <= 0.0 {
            continue;
        }
        let s = flat.site[n];
        let c = flat.culprit[n];
        by_self[s] += size;
        by_culprit[c] += size;
        if heaviest_self[s].is_none_or(|(w, _)| size > w) {
            heaviest_self[s] = Some((size, n));
        }
        if heaviest_culprit[c].is_none_or(|(w, _)| size > w) {
            heaviest_culprit[c] = Some((size, n));
        }
    }
    let rank = |sizes: &[f64], heaviest: &[Option<(f64, usize)>]| -> Vec<SiteStat> {
        let mut idx: Vec<usize> = (0..sizes.len()).filter(|&i| sizes[i] > 0.0).collect();
        idx.sort_by(|&a, &b| sizes[b].total_cmp(&sizes[a]).then(a.cmp(&b)));
        idx.truncate(top);
        idx.into_iter()
            .map(|i| SiteStat {
                site: flat.sites[i].clone(),
                bytes: sizes[i].round() as u64,
                share: if total > 0.0 { sizes[i] / total } else { 0.0 },
                path: heaviest[i].map(|(_, n)| flat.path(n)).unwrap_or_default(),
            })
            .collect()
    };
    AllocSummary {
        schema: leakhound_schema::alloc::SCHEMA.to_string(),
        total_bytes,
        samples: profile.samples.len(),
        top_self: rank(&by_self, &heaviest_self),
        top_culprits: rank(&by_culprit, &heaviest_culprit),
    }
}

/// The call tree flattened into arrays (pre-order), so deep trees need no recursion.
struct Flat {
    sites: Vec<Site>,
    site: Vec<usize>,
    culprit: Vec<usize>,
    parent: Vec<Option<usize>>,
    self_size: Vec<f64>,
}

impl Flat {
    fn build(head: &ProfileNode, base: Option<&Path>, mut maps: Option<&mut SourceMaps>) -> Flat {
        let mut flat = Flat {
            sites: Vec::new(),
            site: Vec::new(),
            culprit: Vec::new(),
            parent: Vec::new(),
            self_size: Vec::new(),
        };
        let mut index: HashMap<Site, usize> = HashMap::new();
        // (node, parent flat index, the best culprit frame above it: (kind, site), whether a
        // frame of Node's own code is above it)
        type Pending<'a> = (
            &'a ProfileNode,
            Option<usize>,
            Option<(FrameKind, usize)>,
            bool,
        );
        let mut stack: Vec<Pending> = vec![(head, None, None, false)];
        while let Some((node, parent, above, below_node)) = stack.pop() {
            let site = site_of(&node.call_frame, base, below_node, maps.as_deref_mut());
            let below_node = below_node || node.call_frame.url.starts_with("node:");
            let kind = site.kind;
            let next = index.len();
            let s = *index.entry(site.clone()).or_insert(next);
            if s == flat.sites.len() {
                flat.sites.push(site);
            }
            // The deepest frame of the best kind wins: user code over dependencies over Node.
            let best = match above {
                Some((k, _)) if k < kind => above,
                _ if kind != FrameKind::Native => Some((kind, s)),
                _ => above,
            };
            let me = flat.site.len();
            flat.site.push(s);
            flat.culprit.push(best.map_or(s, |(_, c)| c));
            flat.parent.push(parent);
            flat.self_size.push(if node.self_size.is_finite() {
                node.self_size
            } else {
                0.0
            });
            for child in node.children.iter().rev() {
                stack.push((child, Some(me), best, below_node));
            }
        }
        flat
    }

    fn path(&self, mut n: usize) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let site = &self.sites[self.site[n]];
            if site.function != "(root)" {
                out.push(site.to_string());
            }
            match self.parent[n] {
                Some(p) => n = p,
                None => break,
            }
        }
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, url: &str, line: i64) -> CallFrame {
        CallFrame {
            function_name: name.into(),
            script_id: if url.is_empty() { "0" } else { "7" }.into(),
            url: url.into(),
            line_number: line,
            column_number: 4,
        }
    }

    fn node(f: CallFrame, self_size: f64, children: Vec<ProfileNode>) -> ProfileNode {
        ProfileNode {
            call_frame: f,
            self_size,
            id: 0,
            children,
        }
    }

    #[test]
    fn charges_builtin_allocations_to_the_calling_user_line() {
        let app = "file:///srv/app/server.js";
        let profile = Profile {
            head: node(
                frame("(root)", "", -1),
                0.0,
                vec![node(
                    frame("emit", "node:events", 500),
                    100.0,
                    vec![node(
                        frame("handle", app, 9),
                        1000.0,
                        vec![
                            node(frame("stringify", "", -1), 5000.0, vec![]),
                            node(
                                frame("getItemAssets", app, 19),
                                3000.0,
                                vec![node(
                                    frame("lib", "file:///srv/app/node_modules/x/i.js", 1),
                                    700.0,
                                    vec![],
                                )],
                            ),
                        ],
                    )],
                )],
            ),
            samples: vec![],
        };
        let s = summarize(&profile, Some(Path::new("/srv/app")), 10);
        assert_eq!(s.total_bytes, 9800);
        // Self view: the built-in is the biggest frame.
        assert_eq!(s.top_self[0].site.function, "stringify");
        assert_eq!(s.top_self[0].bytes, 5000);
        // Culprit view: stringify's bytes go to `handle`, the dependency's to getItemAssets.
        let handle = &s.top_culprits[0];
        assert_eq!(handle.site.function, "handle");
        assert_eq!(handle.bytes, 6000);
        assert_eq!(handle.site.location(), "server.js:10");
        assert_eq!(handle.site.column, Some(5));
        let assets = &s.top_culprits[1];
        assert_eq!(assets.site.function, "getItemAssets");
        assert_eq!(assets.bytes, 3700);
        assert_eq!(
            assets.path,
            vec![
                "emit (node:events:501)",
                "handle (server.js:10)",
                "getItemAssets (server.js:20)",
            ],
            "the heaviest node charged to getItemAssets is its own frame"
        );
        // Node's own frame keeps its bytes when no user frame is above it.
        assert_eq!(s.top_culprits[2].site.function, "emit");
        assert_eq!(s.top_culprits[2].bytes, 100);
        assert!((s.top_culprits.iter().map(|c| c.share).sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn mapped_sites_keep_the_generated_position_and_bundled_dependencies_are_dependencies() {
        // dist/app.js line 2 is `src/a.ts` line 5; line 3 is `node_modules/x/i.js` line 1.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(
            dir.path().join("dist/app.js"),
            "\nfunction f() {}\nfunction g() {}\n//# sourceMappingURL=app.js.map\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("dist/app.js.map"),
            r#"{"version":3,"sources":["../src/a.ts","../node_modules/x/i.js"],"names":[],"mappings":";AAIA;ACJA"}"#,
        )
        .unwrap();
        let url = format!("file://{}/dist/app.js", dir.path().display());
        let profile = Profile {
            head: node(
                frame("(root)", "", -1),
                0.0,
                vec![node(
                    frame("f", &url, 1),
                    10.0,
                    vec![node(frame("g", &url, 2), 90.0, vec![])],
                )],
            ),
            samples: vec![],
        };
        let mut maps = SourceMaps::new(Some(dir.path()));
        let s = summarize_mapped(&profile, Some(dir.path()), 5, &mut maps);
        // g's bytes go to f: g is a dependency once mapped.
        let f = &s.top_culprits[0];
        assert_eq!((f.site.function.as_str(), f.bytes), ("f", 100));
        assert_eq!(f.site.location(), "src/a.ts:5");
        let g = Generated {
            file: "dist/app.js".into(),
            line: 2,
            column: 5,
        };
        assert_eq!(f.site.generated, Some(g));
        let dep = s.top_self.iter().find(|x| x.site.function == "g").unwrap();
        assert_eq!(dep.site.kind, FrameKind::Dependency);
        assert_eq!(dep.site.location(), "node_modules/x/i.js:1");
        // Unmapped, the same profile stays in the bundle.
        let plain = summarize(&profile, Some(dir.path()), 5);
        assert_eq!(plain.top_culprits[0].site.location(), "dist/app.js:3");
        assert_eq!(plain.top_culprits[0].site.generated, None);
    }

    #[test]
    fn top_bounds_the_lists() {
        let kids = (0..20)
            .map(|i| {
                node(
                    frame(&format!("f{i}"), "file:///a.js", i),
                    10.0 + i as f64,
                    vec![],
                )
            })
            .collect();
        let p = Profile {
            head: node(frame("(root)", "", -1), 0.0, kids),
            samples: vec![],
        };
        let s = summarize(&p, None, 5);
        assert_eq!(s.top_self.len(), 5);
        assert_eq!(s.top_self[0].site.function, "f19");
        assert_eq!(s.top_self[0].site.file, "/a.js");
    }

    #[test]
    fn negative_sizes_count_nowhere() {
        // Found by the fuzzer: a damaged profile with a negative selfSize made the total
        // smaller than the bytes charged to sites (a share over 100%).
        let p = Profile {
            head: node(
                frame("(root)", "", -1),
                0.0,
                vec![
                    node(frame("a", "file:///a.js", 1), 100.0, vec![]),
                    node(frame("b", "file:///a.js", 2), -104.0, vec![]),
                ],
            ),
            samples: vec![],
        };
        let s = summarize(&p, None, 5);
        assert_eq!(s.total_bytes, 100);
        assert_eq!(s.top_self.len(), 1);
        assert!((s.top_self[0].share - 1.0).abs() < 1e-12);
    }
}
