//! Our numbers against DevTools' own algorithm (devtools-frontend@138048f, run under Node by
//! the npm package `heap-snapshot-toolkit`) on a snapshot Node writes during the test:
//! every node's retained size, distance and class name, and every class's totals.
//! Needs `npm` (runs `npm ci` in tests/oracle when node_modules is missing).
mod common;
mod node_snapshots;

use common::*;
use leakhound_heap::Heap;
use std::collections::HashMap;
use std::process::Command;

fn ensure_oracle() -> std::path::PathBuf {
    let dir = repo_root().join("tests/oracle");
    if !dir.join("node_modules/heap-snapshot-toolkit").exists() {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm is needed for the DevTools oracle");
        assert!(st.success(), "npm ci failed in tests/oracle");
    }
    dir
}

pub fn write_known_snapshot(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("known.heapsnapshot");
    let st = Command::new("node")
        .arg(repo_root().join("crates/leakhound/tests/servers/heap_known.js"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

#[test]
fn retained_sizes_distances_and_classes_match_devtools() {
    let _s = serial();
    let oracle = ensure_oracle();
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_known_snapshot(tmp.path());
    assert_matches_devtools(&oracle, &snap);
}

/// The snapshots Node writes from `node -e`, `node -p` and a script piped into `node -`
/// hold nodes that only an unreachable cycle retains (they once made the dominator pass
/// index out of bounds): DevTools hangs them off the root, and so must we.
#[test]
fn snapshots_from_node_e_p_and_stdin_match_devtools() {
    let _s = serial();
    let oracle = ensure_oracle();
    let tmp = tempfile::tempdir().unwrap();
    for kind in node_snapshots::SnapshotKind::ALL {
        let snap = node_snapshots::write_node_snapshot(tmp.path(), kind);
        assert_matches_devtools(&oracle, &snap);
    }
    // The same shape cut down to four nodes (the fuzz corpus keeps it).
    let tiny = repo_root().join("crates/heap/fuzz/corpus/parse/unreachable-cycle");
    assert_matches_devtools(&oracle, &tiny);
}

/// A big snapshot (the scale benchmark's, e.g. `bench/out/heap-1gb-x5.heapsnapshot`) against
/// DevTools on every `LEAKHOUND_ORACLE_SAMPLE`th node (default 1000) and every class:
/// `LEAKHOUND_ORACLE_FILE=FILE cargo test --release -p leakhound --test heap_oracle -- --ignored`.
/// DevTools needs several times the file in memory, so this is not part of the normal run.
#[test]
#[ignore]
fn a_big_snapshot_matches_devtools_on_a_sample() {
    let _s = serial();
    let Some(file) = std::env::var_os("LEAKHOUND_ORACLE_FILE") else {
        panic!("set LEAKHOUND_ORACLE_FILE to a .heapsnapshot");
    };
    let oracle = ensure_oracle();
    let step = std::env::var("LEAKHOUND_ORACLE_SAMPLE").unwrap_or_else(|_| "1000".into());
    std::env::set_var("ORACLE_SAMPLE", step);
    assert_matches_devtools(&oracle, std::path::Path::new(&file));
}

/// Every node's id, retained size, self size, distance and class, and every class's totals,
/// as DevTools computes them for `snap`.
fn assert_matches_devtools(oracle: &std::path::Path, snap: &std::path::Path) {
    let out = Command::new("node")
        .arg(oracle.join("oracle.mjs"))
        .arg(snap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let h = Heap::open(snap).unwrap();
    assert_eq!(o["node_count"].as_u64().unwrap() as usize, h.node_count());
    assert_eq!(o["total"].as_u64().unwrap(), h.total);
    let nodes = o["nodes"].as_array().unwrap();
    let step = o["sample_step"].as_u64().unwrap_or(1) as usize;
    let mut mismatches = Vec::new();
    for (k, n) in nodes.iter().enumerate() {
        let i = k * step;
        let (id, ret, selfs, dist, class) = (
            n[0].as_u64().unwrap(),
            n[1].as_u64().unwrap(),
            n[2].as_u64().unwrap(),
            n[3].as_i64().unwrap(),
            n[4].as_str().unwrap(),
        );
        let got = (
            u64::from(h.graph.node_id[i]),
            h.retained[i],
            h.self_size.get(i),
            h.distance[i] as i64,
            h.class_name(i as u32),
        );
        if got != (id, ret, selfs, dist, class) {
            mismatches.push(format!(
                "node {i}: devtools {:?} ours {:?}",
                (id, ret, selfs, dist, class),
                got
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}: {} mismatches, first: {:#?}",
        snap.display(),
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );

    let ours: HashMap<String, (u64, u64, u64)> = leakhound_heap::summary::class_table(&h)
        .into_iter()
        .map(|r| (r.class, (r.count, r.self_bytes, r.retained_bytes)))
        .collect();
    let theirs = o["classes"].as_object().unwrap();
    assert_eq!(theirs.len(), ours.len());
    for (name, t) in theirs {
        let want = (
            t["count"].as_u64().unwrap(),
            t["self"].as_u64().unwrap(),
            t["retained"].as_u64().unwrap(),
        );
        assert_eq!(ours.get(name), Some(&want), "class {name}");
    }
}
