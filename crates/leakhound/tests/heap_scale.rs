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

/// The `--report` page of a Node snapshot: under 5 MB, loads in headless Chromium with no
/// console errors, and a node two levels down expands (through its ancestor) from the URL's
/// `#expand=` on load, showing its children and its retainer path.
#[test]
fn summary_report_page_renders_and_expands_in_chromium() {
    let _s = serial();
    let have = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (apt-get install -y chromium)"
        );
        eprintln!("SKIPPED: chromium is not installed; CI is unset");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let snap = known(tmp.path());
    let html = tmp.path().join("heap.html");
    let out = leakhound()
        .args(["heap", "summary"])
        .arg(&snap)
        .arg("--report")
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.len() < 5_000_000, "{} bytes", page.len());
    assert!(
        page.contains("KnownThing"),
        "the class table lists the known class"
    );

    // A node below a child of the root, with children of its own, from the embedded tree.
    let start = page.find("id=\"domtree\">").unwrap() + "id=\"domtree\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    let tree: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
    let nodes = tree["n"].as_array().unwrap();
    let kids = |i: usize| -> Vec<usize> {
        nodes[i][5]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as usize)
            .collect()
    };
    let (parent, target) = kids(0)
        .into_iter()
        .flat_map(|p| kids(p).into_iter().map(move |t| (p, t)))
        .find(|&(_, t)| !kids(t).is_empty())
        .expect("a grandchild of the root with children");
    let id = |i: usize| nodes[i][1].as_u64().unwrap();
    let grandkid = id(kids(target)[0]);

    let url = format!("file://{}#expand={}", html.display(), id(target));
    let profile = tempfile::tempdir().unwrap();
    let run = chromium(&[
        format!("--user-data-dir={}", profile.path().display()),
        "--dump-dom".into(),
        url,
    ]);
    let log = String::from_utf8_lossy(&run.stderr);
    for bad in ["Uncaught", "CONSOLE", "Failed to load resource", "net::ERR"] {
        assert!(!log.contains(bad), "{bad} in chromium's log:\n{log}");
    }
    let dom = String::from_utf8_lossy(&run.stdout);
    assert!(
        dom.contains("data-tree=\"ready\""),
        "the script did not finish"
    );
    for (i, what) in [(parent, "the ancestor"), (target, "the node")] {
        let open = format!("id=\"n{}\" data-i=\"{i}\" class=\"open\"", id(i));
        assert!(dom.contains(&open), "{what} is not expanded: no `{open}`");
    }
    assert!(
        dom.contains(&format!("id=\"n{grandkid}\"")),
        "the expanded node's child @{grandkid} is not drawn"
    );
    assert!(
        dom.contains("class=\"path\">path: "),
        "no retainer path shown"
    );
    // Lazily drawn: far fewer rows in the DOM than nodes in the data.
    assert!(dom.matches("<li id=").count() < nodes.len());
}
