//! App-first retainer paths. The shortest path from the roots often runs through Node's own
//! objects first (on the seed: `clearImmediate > context > timerListMap > … > _onTimeout >
//! bound_this (Server) > _events > request > context > responseCache`), and the user has to
//! find where their code starts. A variable of the app lives in the scope (`Context`) of the
//! app's functions: so among the functions whose scope holds the suspect's variable, the one
//! defined in an app file (not `node:` internals, not `node_modules`) anchors the path, and
//! everything between the roots and that function folds into one step such as
//! `(Node internals: timers, http)`. The full route stays available for the JSON.

use crate::analysis::{Heap, NO_EDGE};
use crate::paths::{path_to, render, step, Step};

/// The path a user reads, and the full route it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPath {
    /// `(Node internals: timers) > request (Function) > responseCache (Map)`: ends in the
    /// holder.
    pub shown: Vec<String>,
    /// The whole route from the roots to the suspect (rendered as [`render`] does).
    pub full: String,
}

/// Index in `steps` of the named holder: the last property or variable before the suspect
/// whose class is an object's, not V8's (`responseCache (Map)`).
pub fn holder_index(steps: &[Step]) -> Option<usize> {
    let last = steps.len().checked_sub(1)?;
    (0..last).rev().find(|&i| {
        matches!(steps[i].edge_type.as_str(), "property" | "context")
            && !steps[i].class.starts_with('(')
    })
}

/// The node ordinals along the BFS path to `n`, root excluded, outermost first.
fn path_nodes(h: &Heap, n: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut v = n;
    while v != h.graph.root && out.len() < 10_000 {
        out.push(v);
        let e = h.parent_edge[v as usize];
        if e == NO_EDGE {
            break;
        }
        let fe = &h.graph.first_edge;
        v = (fe.partition_point(|&x| x <= e) - 1) as u32;
    }
    out.reverse();
    out
}

/// The script a function was defined in: `closure > shared > script_or_debug_info|script`,
/// whose node name is the script's URL or path.
pub fn script_of(h: &Heap, closure: u32) -> Option<&str> {
    let g = &h.graph;
    let named = |n: u32, names: &[&str]| {
        g.edges(n).find_map(|e| {
            g.edge_name_str(e, &h.t)
                .filter(|s| names.contains(s))
                .map(|_| g.edge_to[e])
        })
    };
    let shared = named(closure, &["shared"])?;
    let script = named(shared, &["script_or_debug_info", "script"])?;
    Some(g.name(script))
}

/// Whether a script name is the app's own: not Node's internals, not a package, not eval.
pub fn is_app_script(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with("node:")
        && !name.starts_with("internal/")
        && !name.contains("node_modules")
        && (name.starts_with('/') || name.starts_with("file://") || name.contains('.'))
}

/// What Node keeps in the hops before the app: a word per kind of internal object.
fn internals_label(steps: &[Step]) -> String {
    const TIMERS: &[&str] = &[
        "timerListMap",
        "timerListQueue",
        "_onTimeout",
        "_idleNext",
        "_idlePrev",
        "immediateQueue",
    ];
    const HTTP: &[&str] = &[
        "Server",
        "Socket",
        "HTTPParser",
        "IncomingMessage",
        "ServerResponse",
        "TCP",
    ];
    let mut kinds: Vec<&str> = Vec::new();
    for s in steps {
        let found = [
            (TIMERS.contains(&s.edge.as_str())
                || matches!(s.class.as_str(), "Timeout" | "TimersList" | "Immediate"))
            .then_some("timers"),
            HTTP.contains(&s.class.as_str()).then_some("http"),
            (s.edge == "_events").then_some("events"),
        ];
        for k in found.into_iter().flatten() {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
    }
    if kinds.is_empty() {
        "(Node internals)".to_string()
    } else {
        format!("(Node internals: {})", kinds.join(", "))
    }
}

/// `responseCache (Map)`; V8's own objects by their edge (`table`) or class (`(array)`).
fn shown_step(s: &Step) -> String {
    if !s.class.starts_with('(') {
        format!("{} ({})", s.edge, s.class)
    } else if s.edge_type == "internal" && !s.edge.chars().all(|c| c.is_ascii_digit()) {
        s.edge.clone()
    } else {
        s.class.clone()
    }
}

/// The app-first path to `target`, whose shortest path is `steps` (from [`path_to`]); `None`
/// when no variable of an app function's scope holds it (then the shortest path stands).
pub fn app_first(h: &Heap, target: u32, steps: &[Step]) -> Option<AppPath> {
    let holder = holder_index(steps)?;
    let nodes = path_nodes(h, target);
    if nodes.len() != steps.len() {
        return None;
    }
    // The nearest variable at or above the holder: a `context` edge out of a scope.
    let var = (0..=holder)
        .rev()
        .find(|&i| i > 0 && steps[i].edge_type == "context")?;
    let scope = nodes[var - 1];
    let g = &h.graph;
    // The app's functions whose scope it is, the one nearest the roots first.
    let mut best: Option<(i32, u32, usize)> = None;
    for f in 0..g.node_count() as u32 {
        if g.node_type[f as usize] != h.t.closure {
            continue;
        }
        let Some(e) = g
            .edges(f)
            .find(|&e| g.edge_to[e] == scope && g.edge_name_str(e, &h.t) == Some("context"))
        else {
            continue;
        };
        let d = h.distance[f as usize];
        if d < 0 || best.is_some_and(|(bd, _, _)| bd <= d) {
            continue;
        }
        if script_of(h, f).is_some_and(is_app_script) {
            best = Some((d, f, e));
        }
    }
    let (_, f, ctx_edge) = best?;
    let to_f = path_to(h, f);
    let mut full = to_f.clone();
    full.push(step(h, ctx_edge, scope));
    full.extend_from_slice(&steps[var..]);
    let mut shown = Vec::new();
    if to_f.len() > 1 {
        shown.push(internals_label(&to_f[..to_f.len() - 1]));
    }
    if let Some(fs) = to_f.last() {
        shown.push(shown_step(fs));
    }
    shown.extend(steps[var..=holder].iter().map(shown_step));
    Some(AppPath {
        shown,
        full: render(&full),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot from (type, name) nodes of 16 bytes each and (from, type, name, to) edges;
    /// node 0 is the root.
    fn snapshot(nodes: &[(&str, &str)], edges: &[(usize, &str, &str, usize)]) -> Heap {
        let sized: Vec<(&str, &str, u64)> = nodes.iter().map(|&(t, n)| (t, n, 16)).collect();
        crate::testheap::heap(&sized, edges)
    }

    /// The seed's shape: the roots reach the app's request handler through the timer list
    /// (shorter) and through nothing of the app; the module scope holds `responseCache`.
    fn seed_like(handler_script: &str) -> Heap {
        let nodes = [
            ("synthetic", ""),                // 0 root
            ("synthetic", "(GC roots)"),      // 1
            ("object", "TimersList"),         // 2
            ("object", "Timeout"),            // 3
            ("object", "Server"),             // 4
            ("object", "Object"),             // 5 _events
            ("closure", "handler"),           // 6 the app's request handler
            ("object", "system / Context"),   // 7 module scope
            ("object", "Map"),                // 8 responseCache
            ("array", "table"),               // 9
            ("object", "Object"),             // 10 the leaked entry
            ("code", "handler"),              // 11 SharedFunctionInfo
            ("code", handler_script),         // 12 Script
            ("closure", "listOnTimeout"),     // 13 node's
            ("code", "listOnTimeout"),        // 14
            ("code", "node:internal/timers"), // 15
            ("object", "system / Context"),   // 16 node's scope
        ];
        let edges = [
            (0, "element", "1", 1),
            (1, "element", "1", 13),
            (13, "internal", "shared", 14),
            (14, "internal", "script_or_debug_info", 15),
            (13, "internal", "context", 16),
            (16, "context", "timerListMap", 2),
            (2, "property", "_idleNext", 3),
            (3, "property", "_onTimeout", 4),
            (4, "property", "_events", 5),
            (5, "property", "request", 6),
            (6, "internal", "shared", 11),
            (11, "internal", "script_or_debug_info", 12),
            (6, "internal", "context", 7),
            (7, "context", "responseCache", 8),
            (8, "internal", "table", 9),
            (9, "element", "3", 10),
        ];
        snapshot(&nodes, &edges)
    }

    #[test]
    fn the_path_starts_at_the_apps_function_and_folds_the_timer_list() {
        let h = seed_like("/srv/app/server.js");
        let target = 10;
        let steps = path_to(&h, target);
        assert!(
            render(&steps).contains("timerListMap"),
            "{}",
            render(&steps)
        );
        let p = app_first(&h, target, &steps).expect("an app-first path");
        assert_eq!(
            p.shown,
            [
                "(Node internals: timers, http, events)",
                "request (Function)",
                "responseCache (Map)"
            ]
        );
        assert!(p.full.contains("timerListMap"), "{}", p.full);
        assert!(
            p.full.contains("request (Function) > context"),
            "{}",
            p.full
        );
    }

    #[test]
    fn a_scope_of_node_or_a_package_is_not_the_app() {
        for script in [
            "node:internal/http",
            "/srv/app/node_modules/lru/index.js",
            "",
        ] {
            let h = seed_like(script);
            let steps = path_to(&h, 10);
            assert_eq!(app_first(&h, 10, &steps), None, "{script}");
        }
        assert!(is_app_script("file:///srv/app/server.mjs"));
        assert!(is_app_script("examples/leaky-server.js"));
    }

    #[test]
    fn the_holder_is_the_last_named_object_before_the_suspect() {
        let s = |edge: &str, ty: &str, class: &str| Step {
            edge: edge.into(),
            edge_type: ty.into(),
            class: class.into(),
            node_id: 1,
        };
        let steps = [
            s("1", "element", "(GC roots)"),
            s("responseCache", "context", "Map"),
            s("table", "internal", "(system)"),
            s("[3]", "element", "Object"),
        ];
        assert_eq!(holder_index(&steps), Some(1));
        assert_eq!(holder_index(&steps[..1]), None);
    }
}
