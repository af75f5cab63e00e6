//! The heap at death: a target that runs out of memory leaves the snapshot Node writes near
//! the heap limit, and the run's suspects come from it (the leaking variable, the line that
//! grows it), with or without `--snapshots`.

mod common;

use std::time::{Duration, Instant};

use common::{repo_root, run_json, serial};
use serde_json::Value;

fn server() -> String {
    repo_root()
        .join("crates/leakhound/tests/servers/oom-fast-leak.js")
        .to_string_lossy()
        .into_owned()
}

/// Run the fast leak into a 48 MB old space, bounded; the report and its text.
fn oom_run(extra: &[&str], envs: &[(&str, &str)]) -> (Value, String) {
    let t0 = Instant::now();
    let s = server();
    let mut args = vec!["--heap-mb", "48", "--max-duration", "40s"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "node", &s]);
    let (code, v, text) = run_json(&args, envs);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["oom"], true, "{text}");
    // Writing and reading a ~48 MB heap's snapshot must not make the run slow.
    assert!(t0.elapsed() < Duration::from_secs(45), "{:?}", t0.elapsed());
    (v, text)
}

/// The first suspect names `sessionStore` and a line of the server that grows or declares it.
fn names_the_leak(v: &Value, text: &str) -> String {
    let s = &v["suspects"][0];
    let path: Vec<&str> = s["path"]
        .as_array()
        .unwrap_or_else(|| panic!("no suspects: {text}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(path.last(), Some(&"sessionStore (Map)"), "{s}");
    assert!(
        s["title"]
            .as_str()
            .unwrap()
            .contains("held by sessionStore (Map)"),
        "{s}"
    );
    assert!(s["percent"].as_f64().unwrap() > 50.0, "{s}");
    let lines = s["source"].as_array().unwrap();
    let grows = lines
        .iter()
        .find(|l| l["kind"] == "grows")
        .unwrap_or_else(|| panic!("no grows line: {s}"));
    assert_eq!(
        grows["location"], "crates/leakhound/tests/servers/oom-fast-leak.js:11",
        "{s}"
    );
    assert!(
        grows["code"]
            .as_str()
            .unwrap()
            .starts_with("sessionStore.set("),
        "{s}"
    );
    assert!(lines.iter().any(|l| l["kind"] == "declared"
        && l["location"] == "crates/leakhound/tests/servers/oom-fast-leak.js:7"));
    assert!(text.contains("culprit (the heap at death"), "{text}");
    let sig = s["signature"].as_str().unwrap().to_string();
    assert_eq!(sig.len(), 16, "{s}");
    sig
}

#[test]
fn an_oom_run_names_the_leak_from_the_heap_at_death() {
    let _s = serial();
    // Without --snapshots: a private directory, removed after the analysis.
    let (v, text) = oom_run(&[], &[]);
    let sig1 = names_the_leak(&v, &text);
    assert!(
        v["snapshots"].as_array().is_none_or(|a| a.is_empty()),
        "{v}"
    );
    let notes = v["culprit_notes"].to_string();
    assert!(
        notes.contains("heap at death") && notes.contains("deleted"),
        "{notes}"
    );

    // With --snapshots DIR: the snapshot is kept there and listed; the same leak, the same
    // signature.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let (v, text) = oom_run(&["--snapshots", &d], &[]);
    assert_eq!(names_the_leak(&v, &text), sig1);
    let kept = v["snapshots"][0].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(
        kept.starts_with(&d) && kept.ends_with(".heapsnapshot"),
        "{kept}"
    );
    assert!(std::path::Path::new(kept).is_file());
}

#[test]
fn the_users_own_diagnostic_dir_is_used_and_kept() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let opts = format!("--diagnostic-dir={}", dir.path().display());
    let (v, text) = oom_run(&[], &[("NODE_OPTIONS", &opts)]);
    names_the_leak(&v, &text);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".heapsnapshot"))
        .collect();
    assert_eq!(files.len(), 1, "{text}");
}
