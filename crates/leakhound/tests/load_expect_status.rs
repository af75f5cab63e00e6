//! `load --expect-status LIST`: the statuses that count as a success (default 2xx and 3xx);
//! any other status is a failed request in the summary, as in `run`.

mod common;

use common::{leakhound, repo_root, serial, NodeServer};

/// `load -n 40 -c 2 ARGS URL`: exit code and the summary's Successful/Failed counts.
fn load(args: &[&str], url: &str) -> (Option<i32>, u64, u64, String) {
    let out = leakhound()
        .args(["load", "-n", "40", "-c", "2", "--no-progress"])
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |label: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {label} in {text}"))
    };
    (
        out.status.code(),
        count("Successful:"),
        count("Failed:"),
        text,
    )
}

#[test]
fn expected_statuses_are_successes_and_the_rest_failures() {
    let _s = serial();
    let routes = repo_root().join("crates/leakhound/tests/servers/status-routes.js");
    let server = NodeServer::start(&routes, &[]);
    // By default a 400 is a failure: nothing succeeded, exit 1.
    let (code, ok, failed, text) = load(&[], &server.url("/bad"));
    assert_eq!((code, ok, failed), (Some(4), 0, 40), "{text}");
    assert!(text.contains("Status codes: 400: 40"), "{text}");
    // Aimed at the error path on purpose.
    let (code, ok, failed, text) = load(&["--expect-status", "400"], &server.url("/bad"));
    assert_eq!((code, ok, failed), (Some(0), 40, 0), "{text}");
    // A list replaces the default: 200 is no longer expected with `4xx`.
    let (code, ok, failed, text) = load(&["--expect-status", "4xx"], &server.url("/ok"));
    assert_eq!((code, ok, failed), (Some(4), 0, 40), "{text}");
    let (code, ok, _, text) = load(&["--expect-status", "200-299,404"], &server.url("/x"));
    assert_eq!((code, ok), (Some(0), 40), "{text}");
}

#[test]
fn a_bad_list_is_a_usage_error() {
    let out = leakhound()
        .args(["load", "--expect-status", "2xx,7xx", "http://127.0.0.1:1/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`7xx` is not a status class"), "{err}");
}
