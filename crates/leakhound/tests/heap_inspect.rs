//! The heap inspections on snapshots Node writes during the test with known findings
//! (tests/servers/heap_inspect.js): duplicated strings and listeners per emitter through
//! `heap summary --json`, and the collections that grew through `heap diff --json` and
//! `heap leaks --json`, and the same findings in their `--markdown` summaries.
mod common;

use common::*;
use std::path::PathBuf;

const DUP: u64 = 300;
const LISTENERS: u64 = 25;
const GROW: u64 = 200;

fn json(args: &[&str], files: &[PathBuf]) -> serde_json::Value {
    let out = leakhound()
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

/// The `--markdown -` summary (the text then goes to stderr).
fn markdown(args: &[&str], files: &[PathBuf]) -> String {
    let out = leakhound()
        .args(args)
        .args(files)
        .args(["--markdown", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn summary_diff_and_leaks_report_the_known_findings() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let files = inspect_snapshots(tmp.path());

    let s = json(&["heap", "summary"], &files[2..]);
    let d = &s["duplicated_strings"];
    let row = d["top"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "leakhound-duplicated-value")
        .unwrap_or_else(|| panic!("the known string is not in the top: {d:#}"));
    assert_eq!(row["count"], DUP);
    let each = row["bytes_each"].as_u64().unwrap();
    assert!(each >= 16 + 26, "{row}");
    assert_eq!(row["wasted_bytes"].as_u64().unwrap(), (DUP - 1) * each);
    assert!(d["wasted_bytes"].as_u64().unwrap() >= (DUP - 1) * each);
    let l = s["listeners"].as_array().unwrap();
    assert_eq!(l[0]["emitter"], "Bus", "{l:#?}");
    assert_eq!(l[0]["event"], "config:reload");
    assert_eq!(l[0]["listeners"], LISTENERS);
    assert!(
        l[0]["path"].as_str().unwrap().contains("bus"),
        "{}",
        l[0]["path"]
    );

    let grown = |v: &serde_json::Value, snaps: usize| -> Vec<(String, String, Vec<u64>)> {
        v["grown_collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let e: Vec<u64> = c["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect();
                assert_eq!(e.len(), snaps);
                (
                    c["kind"].as_str().unwrap().to_string(),
                    c["holder"].as_str().unwrap_or("").to_string(),
                    e,
                )
            })
            .collect()
    };
    let d = json(&["heap", "diff"], &files[1..]);
    let rows = grown(&d, 2);
    for (kind, holder) in [
        ("map", "grownCache"),
        ("array", "grownList"),
        ("object", "grownDict"),
    ] {
        let r = rows
            .iter()
            .find(|r| r.0 == kind && r.1 == holder)
            .unwrap_or_else(|| panic!("{holder} missing: {rows:?}"));
        assert_eq!(r.2, vec![2 * GROW, 3 * GROW], "{holder}");
    }
    assert!(!rows.iter().any(|r| r.0 == "set"), "{rows:?}");

    let l = json(&["heap", "leaks"], &files);
    let rows = grown(&l, 3);
    let cache = rows.iter().find(|r| r.1 == "grownCache").unwrap();
    assert_eq!(cache.2, vec![GROW, 2 * GROW, 3 * GROW]);

    // The same findings in the Markdown summaries.
    let m = markdown(&["heap", "summary"], &files[2..]);
    assert!(m.contains("### Duplicated strings"), "{m}");
    assert!(
        m.contains(&format!("| \"leakhound-duplicated-value\" | {DUP} |")),
        "{m}"
    );
    assert!(
        m.contains(&format!("| \"config:reload\" | {LISTENERS} |")),
        "{m}"
    );
    for (args, from) in [(&["heap", "diff"][..], 1), (&["heap", "leaks"][..], 0)] {
        let m = markdown(args, &files[from..]);
        assert!(m.contains("### Collections that grew"), "{m}");
        assert!(
            m.lines()
                .any(|l| l.contains("\"grownCache\"") && l.contains(&format!("{}", 3 * GROW))),
            "{m}"
        );
    }
}
