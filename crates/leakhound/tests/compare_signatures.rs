//! `leakhound compare` by leak signature: on two run results whose heap suspects share one
//! signature and differ in others, every format says which leak is still there, which is gone
//! and which is new, and the exit code stays the slope test's.

mod common;

use std::path::Path;

use common::{leakhound, repo_root};
use serde_json::{json, Value};

/// A real run result (the fuzz corpus's leaky run) with these suspects.
fn run_with(dir: &Path, name: &str, suspects: Value) -> std::path::PathBuf {
    let base = repo_root().join("crates/report/fuzz/corpus/run_json/leaky.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(base).unwrap()).unwrap();
    v["suspects"] = suspects;
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    p
}

fn suspect(sig: &str, holder: &str, bytes: u64) -> Value {
    json!({
        "title": format!("2500 Object objects held by {holder}"),
        "bytes": bytes,
        "percent": 30.0,
        "path": ["(Node internals)", "request (Function)", holder],
        "signature": sig,
    })
}

#[test]
fn compare_says_which_leak_is_still_there_gone_or_new() {
    let dir = tempfile::tempdir().unwrap();
    let before = run_with(
        dir.path(),
        "before.json",
        json!([
            suspect("1111222233334444", "responseCache (Map)", 3 << 20),
            suspect("aaaabbbbccccdddd", "_events (Object)", 1 << 20),
        ]),
    );
    let after = run_with(
        dir.path(),
        "after.json",
        json!([
            suspect("1111222233334444", "responseCache (Map)", 5 << 20),
            suspect("9999888877776666", "sessions (Map)", 2 << 20),
        ]),
    );
    let (json_p, md_p, html_p) = (
        dir.path().join("c.json"),
        dir.path().join("c.md"),
        dir.path().join("c.html"),
    );
    let out = leakhound()
        .arg("compare")
        .args([&before, &after])
        .arg("--json")
        .arg(&json_p)
        .arg("--markdown")
        .arg(&md_p)
        .arg("--html")
        .arg(&html_p)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // Two leaking runs: not proven, whatever the signatures say.
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("verdict: not proven"), "{text}");
    assert!(
        text.contains("1111222233334444  2500 Object objects held by responseCache (Map): the same leak is still there (3.0 MiB before, 5.0 MiB after)"),
        "{text}"
    );
    assert!(
        text.contains(
            "aaaabbbbccccdddd  2500 Object objects held by _events (Object): gone (1.0 MiB before)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "9999888877776666  2500 Object objects held by sessions (Map): new (2.0 MiB after)"
        ),
        "{text}"
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json_p).unwrap()).unwrap();
    let statuses: Vec<&str> = v["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["still-there", "gone", "new"]);
    assert_eq!(v["leaks"][0]["before_bytes"], 3 << 20);
    assert_eq!(v["leaks"][0]["after_bytes"], 5 << 20);
    let md = std::fs::read_to_string(&md_p).unwrap();
    assert!(md.contains("| `aaaabbbbccccdddd` |"), "{md}");
    assert!(md.contains("gone (1.0 MiB before)"), "{md}");
    let html = std::fs::read_to_string(&html_p).unwrap();
    assert!(
        html.contains("<td class=\"new\">new (2.0 MiB after)</td>"),
        "{html}"
    );

    // Without signed suspects there is no section, and the slope verdict is unchanged.
    let plain = run_with(dir.path(), "plain.json", json!([]));
    let out = leakhound()
        .arg("compare")
        .args([&plain, &plain])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(!text.contains("leaks by signature"), "{text}");
}
