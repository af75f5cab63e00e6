//! `leakhound alloc` on real profiles and on bad input.

mod common;

use common::{leakhound, repo_root};

#[test]
fn json_names_sites_with_one_based_lines() {
    let file = repo_root().join("tests/fixtures/heapprofile/node26-heap-prof.heapprofile");
    let out = leakhound()
        .arg("alloc")
        .arg(&file)
        .args(["--json", "-", "--top", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "leakhound.alloc/v1");
    assert!(v["total_bytes"].as_u64().unwrap() > 100_000);
    let top_self = v["top_self"].as_array().unwrap();
    assert_eq!(top_self.len(), 3);
    // In the file, compileForInternalLoader sits on 0-based line 406.
    assert_eq!(top_self[0]["site"]["function"], "compileForInternalLoader");
    assert_eq!(top_self[0]["site"]["line"], 407);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("cut.heapprofile");
    std::fs::write(
        &truncated,
        b"{\"head\":{\"callFrame\":{\"functionName\":\"x\"",
    )
    .unwrap();
    let missing = dir.path().join("missing.heapprofile");
    for (file, needle) in [
        (&truncated, "not a V8 sampling heap profile"),
        (&missing, "No such file"),
    ] {
        let out = leakhound().arg("alloc").arg(file).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
    }
}
