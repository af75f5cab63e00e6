//! Tests of [`super`]: the heap at death on a hand-made snapshot.
use super::*;

use leakhound_heap::testheap::heap as snapshot;

/// The heap as an allocation in `remember` ran out: the Map is on the stack (a handle)
/// and in the module scope of the app's handler as `sessionStore`.
fn at_death(script: &str) -> Heap {
    let nodes = [
        ("synthetic", "", 0),               // 0 root
        ("synthetic", "(GC roots)", 0),     // 1
        ("synthetic", "(Handle scope)", 0), // 2
        ("object", "global", 64),           // 3
        ("closure", "handler", 32),         // 4
        ("code", "handler", 32),            // 5 SharedFunctionInfo
        ("code", script, 32),               // 6 Script
        ("object", "system / Context", 32), // 7 module scope
        ("object", "Map", 32),              // 8 sessionStore
        ("array", "", 64),                  // 9 its table
        ("object", "Session", 4000),        // 10..12 the entries
        ("object", "Session", 5000),
        ("object", "Session", 4500),
    ];
    let edges = [
        (0, "element", "1", 1),
        (1, "element", "1", 2),
        (1, "element", "2", 3),
        (2, "element", "14", 8),
        (3, "property", "handler", 4),
        (4, "internal", "shared", 5),
        (5, "internal", "script_or_debug_info", 6),
        (4, "internal", "context", 7),
        (7, "context", "sessionStore", 8),
        (8, "internal", "table", 9),
        (9, "element", "1", 10),
        (9, "element", "3", 11),
        (9, "element", "5", 12),
    ];
    snapshot(&nodes, &edges)
}

#[test]
fn the_largest_retainer_is_named_by_the_apps_variable_not_the_stack() {
    let h = at_death("/srv/app/server.js");
    let g = groups(&h, 5);
    assert_eq!(g.len(), 1, "{g:?}");
    let g = &g[0];
    assert_eq!(g.class, "Session");
    assert_eq!(g.instances, 3);
    assert_eq!(g.retained_bytes, 32 + 64 + 13_500);
    assert_eq!(g.holder.as_deref(), Some("sessionStore (Map)"));
    assert_eq!(
        g.app_path,
        [
            "(Node internals)",
            "handler (Function)",
            "sessionStore (Map)"
        ]
    );
    let full = g.app_full_path.as_deref().unwrap();
    assert!(
        full.contains("handler (Function) > context") && full.ends_with("(Session)"),
        "{full}"
    );
    // The walk up for source lines starts at the holder.
    let names = crate::holder_walk::names(&g.path_steps);
    assert_eq!(names[0].ident, "sessionStore");
    assert_eq!(names[0].fits, ["set"]);
    // The same leak, the same signature as a run that found it another way.
    assert_eq!(crate::culprit_findings::signature(g).len(), 16);
}

#[test]
fn a_scope_of_a_package_names_the_holder_but_is_not_the_apps_path() {
    let h = at_death("/srv/app/node_modules/lru/index.js");
    let g = &groups(&h, 5)[0];
    assert_eq!(g.holder.as_deref(), Some("sessionStore (Map)"));
    assert!(g.app_path.is_empty(), "{:?}", g.app_path);
    assert!(g.path.contains("sessionStore (Map)"), "{}", g.path);
}
