//! The culprit's source lines when the direct holder is a field inside a package: a listener
//! leak is held by `bus._events['config:reload']`, which the app never names, so the search
//! walks up the retainer path to `bus` and names the `bus.on(` line in the handler. The
//! suspect's path is app-first: it ends in the app's variable, not in Node's internals.

mod common;

use std::process::Stdio;

use common::{leakhound, repo_root, serial};
use serde_json::Value;

const SERVER: &str = "crates/leakhound/tests/servers/culprit/bus-listener.js";

/// `SERVER:<line>` of the first line containing `needle` (1-based).
fn line_of(needle: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join(SERVER)).unwrap();
    let n = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {SERVER}"));
    format!("{SERVER}:{}", n + 1)
}

#[test]
fn a_listener_leak_names_the_on_line_through_the_apps_variable() {
    let _lock = serial();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("bus.json");
    let snaps = tmp.path().join("snaps");
    let out = leakhound()
        .current_dir(repo_root())
        .args(["run", "-c", "4", "--snapshots"])
        .arg(&snaps)
        .arg("--json")
        .arg(&json)
        .args(["--max-duration", "40s", "--", "node", SERVER])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let ctx = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("no JSON ({e}): {ctx}")),
    )
    .unwrap();
    assert_eq!(r["verdict"], "leak", "{ctx}");
    let suspect = &r["suspects"][0];
    let source = suspect["source"]
        .as_array()
        .unwrap_or_else(|| panic!("no source lines: {suspect:#}"));
    assert_eq!(source[0]["kind"], "grows", "{suspect:#}");
    assert_eq!(
        source[0]["location"],
        line_of("bus.on('config:reload'").as_str(),
        "{suspect:#}"
    );
    assert!(
        source
            .iter()
            .any(|l| l["kind"] == "declared" && l["location"] == line_of("const bus =").as_str()),
        "{suspect:#}"
    );
    // The full route runs through the emitter's internals; the JSON keeps it.
    let full: Vec<&str> = suspect["full_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        full.windows(2)
            .any(|w| w[0].starts_with("bus (") && w[1].starts_with("_events")),
        "{full:?}"
    );
}
