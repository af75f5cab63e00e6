//! Allocation pressure, calibrated (issue 10): a table rebuilt on every call
//! (`scenarios/ok-alloc.js`, the seed's `getItemAssets` pattern) is flagged and fails
//! `--fail-on pressure`; a healthy JSON route that allocates what an Express route does
//! (`tests/servers/json-route.js`, ~27 KB/request at ~5 % GC time) is not, so `--fail-on
//! pressure` does not fail ordinary services. The figures are in `crates/session/src/pressure.rs`.

mod common;

use std::process::Stdio;

use common::{leakhound, repo_root, serial};

fn run_fail_on_pressure(script: &str) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = leakhound()
        .arg("run")
        .arg("--json")
        .arg(&json)
        .args([
            "--max-duration",
            "25s",
            "--no-alloc-sites",
            "--fail-on",
            "pressure",
            "--",
            "node",
            script,
        ])
        .stdin(Stdio::null())
        .current_dir(repo_root())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (out.status.code(), v, text)
}

#[test]
fn a_table_rebuilt_per_call_is_pressure() {
    let _l = serial();
    let (code, v, text) = run_fail_on_pressure("scenarios/ok-alloc.js");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    let p = v["allocation_pressure"].as_str().expect("pressure found");
    assert!(
        p.starts_with("allocation pressure without retention"),
        "{p}"
    );
    assert!(v["allocated_bytes_per_request"].as_f64().unwrap() > 64.0 * 1024.0);
    assert_eq!(code, Some(10), "{text}");
}

#[test]
fn a_healthy_json_route_is_not_pressure() {
    let _l = serial();
    let script = repo_root().join("crates/leakhound/tests/servers/json-route.js");
    let (code, v, text) = run_fail_on_pressure(script.to_str().unwrap());
    assert_eq!(v["verdict"], "no-leak", "{text}");
    // It does allocate like a framework route (the old 24 KiB rule flagged it) ...
    let per = v["allocated_bytes_per_request"].as_f64().unwrap();
    assert!(per > 16.0 * 1024.0, "{per}");
    // ... and GC has work to do, but it is not pressure.
    assert!(v["gc_time_share"].as_f64().unwrap() > 0.0);
    assert!(v["allocation_pressure"].is_null(), "{v}");
    assert_eq!(code, Some(0), "{text}");
}
