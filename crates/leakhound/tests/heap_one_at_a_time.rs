//! `heap diff` and `heap leaks` hold one whole heap at a time (each earlier snapshot reduced
//! to what the later steps need, then closed): their reports must be the ones the old path
//! gave with every snapshot open at once (`leakhound_heap::whole_heap`), on snapshots Node
//! writes during the test (tests/servers/heap_inspect.js: collections that grow, strings and
//! listeners), field for field.
mod common;

use common::*;
use leakhound_heap::{whole_heap, Heap};
use std::path::PathBuf;

/// `leakhound heap ARGS FILES --json -` as JSON.
fn cli(args: &[&str], files: &[PathBuf]) -> serde_json::Value {
    let out = leakhound()
        .arg("heap")
        .args(args)
        .args(files)
        .args(["--json", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn diff_and_leaks_one_heap_at_a_time_equal_the_whole_heap_reports() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let files = inspect_snapshots(tmp.path());
    let heaps: Vec<Heap> = files.iter().map(|f| Heap::open(f).unwrap()).collect();

    let old = serde_json::to_value(whole_heap::diff(&heaps[0], &heaps[2])).unwrap();
    assert!(
        !old["classes"].as_array().unwrap().is_empty()
            && !old["grown_collections"].as_array().unwrap().is_empty(),
        "the snapshots must give a diff to compare: {old:#}"
    );
    assert_eq!(cli(&["diff"], &[files[0].clone(), files[2].clone()]), old);
    // The library's entry point takes the same one-at-a-time path.
    let lib = serde_json::to_value(leakhound_heap::diff(&heaps[0], &heaps[2])).unwrap();
    assert_eq!(lib, old);

    let old = serde_json::to_value(whole_heap::leaks(&heaps[0], &heaps[1], &heaps[2])).unwrap();
    let groups = old["groups"].as_array().unwrap();
    assert!(
        !groups.is_empty() && groups.iter().any(|g| g["population"][0].as_u64() > Some(0)),
        "the snapshots must give groups with a population in S1 to compare: {old:#}"
    );
    assert_eq!(cli(&["leaks"], &files), old);
    let lib = serde_json::to_value(leakhound_heap::leaks(&heaps[0], &heaps[1], &heaps[2])).unwrap();
    assert_eq!(lib, old);
}
