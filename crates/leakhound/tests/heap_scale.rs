//! Snapshots at scale: the replication tool the scale benchmark builds its 1 GB and 4 GB
//! files with (K copies of one snapshot must summarise to K× its totals), and the
//! `heap summary --report` page.
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn known(dir: &Path) -> PathBuf {
    let out = dir.join("known.heapsnapshot");
    let st = Command::new("node")
        .arg(repo_root().join("crates/leakhound/tests/servers/heap_known.js"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

fn summary_json(file: &Path) -> serde_json::Value {
    let out = leakhound()
        .args(["heap", "summary"])
        .arg(file)
        .args(["--json", "-", "--top", "1000"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Three copies of a snapshot Node wrote: three times the bytes, nodes and per-class counts
/// and self sizes of the original (edges: three times plus the root's links to the copies).
#[test]
fn three_copies_summarise_to_three_times_the_original() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let one = known(tmp.path());
    let three = tmp.path().join("three.heapsnapshot");
    let src = std::fs::read(&one).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&three).unwrap());
    let r = leakhound_heap::replicate::replicate(&src, 3, &mut out).unwrap();
    drop(out);
    assert_eq!(r.bytes, std::fs::metadata(&three).unwrap().len());

    let (a, b) = (summary_json(&one), summary_json(&three));
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    assert!(n(&a, "total_bytes") > 1_000_000);
    assert_eq!(n(&b, "total_bytes"), 3 * n(&a, "total_bytes"));
    assert_eq!(n(&b, "node_count"), 3 * n(&a, "node_count"));
    assert_eq!(r.edges, n(&b, "edge_count"));
    assert!(n(&b, "edge_count") > 3 * n(&a, "edge_count"));
    // DevTools names plain objects by their property lists only when a list is common enough
    // (an absolute count, not a share), so three copies can name more of them: those rows
    // are compared in total, every other class row by itself.
    let rows = |v: &serde_json::Value| {
        let mut plain = (0, 0);
        let mut m = std::collections::HashMap::new();
        for r in v["top_by_self"].as_array().unwrap() {
            let class = r["class"].as_str().unwrap().to_string();
            let cb = (
                r["count"].as_u64().unwrap(),
                r["self_bytes"].as_u64().unwrap(),
            );
            if class == "Object" || class.starts_with('{') {
                plain = (plain.0 + cb.0, plain.1 + cb.1);
            } else {
                m.insert(class, cb);
            }
        }
        (m, plain)
    };
    let ((ra, pa), (rb, pb)) = (rows(&a), rows(&b));
    assert_eq!(
        n(&a, "class_count") as usize,
        a["top_by_self"].as_array().unwrap().len()
    );
    assert_eq!(ra.len(), rb.len());
    for (class, (count, bytes)) in &ra {
        assert_eq!(rb[class], (3 * count, 3 * bytes), "{class}");
    }
    assert_eq!(pb, (3 * pa.0, 3 * pa.1));
    assert_eq!(rb["KnownThing"], (3000, 120_000));
}
