//! A snapshot Node writes during the test with known content (tests/servers/heap_known.js):
//! exact counts and sizes, the WeakMap ephemeron rule, a closure holding its context, a cons
//! string, and the `summary` command's output on it.
mod common;

use common::*;
use leakhound_heap::Heap;
use std::process::Command;

fn known(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("known.heapsnapshot");
    let st = Command::new("node")
        .arg(repo_root().join("crates/leakhound/tests/servers/heap_known.js"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

fn nodes_of(h: &Heap, class: &str) -> Vec<u32> {
    (0..h.node_count() as u32)
        .filter(|&v| h.class_name(v) == class)
        .collect()
}

fn edge_to(h: &Heap, from: u32, name: &str) -> Option<u32> {
    h.graph
        .edges(from)
        .find(|&e| h.graph.edge_label(e, &h.t) == name)
        .map(|e| h.graph.edge_to[e])
}

#[test]
fn known_content_counts_sizes_and_ownership() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let snap = known(tmp.path());
    let h = Heap::open(&snap).unwrap();

    // 1000 instances held by a Map: header (map, properties, elements) + 2 fields, 8 bytes each.
    let things = nodes_of(&h, "KnownThing");
    assert_eq!(things.len(), 1000);
    assert!(things.iter().all(|&v| h.self_size.get(v as usize) == 40));
    let row = leakhound_heap::summary::class_table(&h)
        .into_iter()
        .find(|r| r.class == "KnownThing")
        .unwrap();
    assert_eq!((row.count, row.self_bytes), (1000, 40_000));
    // Small integers are Smis, 'thing' is shared: each instance retains only itself...
    assert!(things.iter().all(|&v| h.retained[v as usize] == 40));
    // ...and the class retains exactly its instances, all dominated by the Map's storage.
    assert_eq!(row.retained_bytes, 40_000);
    let holder = nodes_of(&h, "Map")
        .into_iter()
        .find(|&m| h.retained[m as usize] >= 40_000 + h.self_size.get(m as usize))
        .unwrap();
    let mut d = h.idom[things[0] as usize];
    while h.class_name(d).starts_with('(') {
        d = h.idom[d as usize];
    }
    assert_eq!(d, holder);

    // WeakMap: the value is retained by key and table together; DevTools (and we) credit the key.
    let key = nodes_of(&h, "WeakKey");
    let val = nodes_of(&h, "WeakValue");
    assert_eq!((key.len(), val.len()), (1, 1));
    assert_eq!(h.idom[val[0] as usize], key[0]);
    assert!(
        h.retained[key[0] as usize]
            >= h.self_size.get(key[0] as usize) + h.retained[val[0] as usize]
    );
    // The table's own edge to the value is not essential, so the WeakMap retains no value.
    let wm = nodes_of(&h, "WeakMap");
    assert!(wm.iter().all(|&m| h.retained[m as usize]
        < h.retained[val[0] as usize] + h.self_size.get(m as usize) + 1024));

    // A closure holding its context, which holds the captured object.
    let clo = (0..h.node_count() as u32)
        .find(|&v| h.class_name(v) == "Function" && h.graph.name(v) == "heldClosure")
        .unwrap();
    let ctx = edge_to(&h, clo, "context").unwrap();
    let captured = edge_to(&h, ctx, "captured").unwrap();
    // A one-off property set is not a DevTools interface (that needs 2+ objects): `Object`.
    assert_eq!(h.class_name(captured), "Object");
    assert!(edge_to(&h, captured, "capturedPayload").is_some());
    assert_eq!(h.idom[captured as usize], ctx);
    assert_eq!(h.idom[ctx as usize], clo);
    assert!(h.retained[clo as usize] >= h.self_size.get(clo as usize) + h.retained[ctx as usize]);

    // A cons string: its two halves hang off `first` and `second`.
    let cons = nodes_of(&h, "(concatenated string)")
        .into_iter()
        .find(|&v| {
            edge_to(&h, v, "first")
                .is_some_and(|f| h.graph.name(f) == "leakhound-cons-left-part-0123456789")
        })
        .expect("cons string");
    let second = edge_to(&h, cons, "second").unwrap();
    assert_eq!(h.graph.name(second), "leakhound-cons-right-part-abcdefghij");

    // The summary agrees and is valid JSON with the documented fields.
    let s = leakhound_heap::summary(&h, 50);
    assert_eq!(s.total_bytes, h.retained[h.graph.root as usize]);
    assert_eq!(s.total_bytes, h.self_size.iter().sum::<u64>());
    let kt = s
        .top_by_self
        .iter()
        .find(|r| r.class == "KnownThing")
        .unwrap();
    assert_eq!(kt.count, 1000);

    // The class tables made beside the distance BFS (what `heap summary` does) give the
    // same summary as the ones `summary` makes itself.
    let (h2, stats) = Heap::open_with(&snap, &leakhound_heap::summary::ForSummary).unwrap();
    let beside = leakhound_heap::summary::summary_with(&h2, 50, stats);
    assert_eq!(
        serde_json::to_value(&beside).unwrap(),
        serde_json::to_value(&s).unwrap()
    );
    assert!(beside.top_by_retained.len() >= 10);
    // Class suspects come with where their instances hang (made on two cores here).
    assert!(
        beside.suspects.iter().any(|x| {
            x.kind == leakhound_heap::summary::SuspectKind::Class && x.accumulation_point.is_some()
        }),
        "{:#?}",
        beside.suspects
    );
}

#[test]
fn summary_command_prints_tables_and_json() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let snap = known(tmp.path());
    let out = leakhound()
        .args(["heap", "summary", "--top", "40"])
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("top classes by retained size") && text.contains("KnownThing"),
        "{text}"
    );
    let j = tmp.path().join("s.json");
    let out = leakhound()
        .args(["heap", "summary", "--json"])
        .arg(&j)
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    assert_eq!(v["schema"], "leakhound.heap.summary/v1");
    assert!(v["total_bytes"].as_u64().unwrap() > 1_000_000);
    // diff of a snapshot with itself: nothing new, nothing deleted.
    let out = leakhound()
        .args(["heap", "diff", "--json", "-"])
        .arg(&snap)
        .arg(&snap)
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["classes"].as_array().unwrap().len(), 0);
}
