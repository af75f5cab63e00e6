//! `leakhound run` tells every state truthfully (issue 10): routes whose requests fail are a
//! failed target with the likely cause, not "no leak"; `--expect-status` makes an error path a
//! normal target; Ctrl-C writes `interrupted` with the statistics so far; a crash under load
//! is `target-failed`, not `inconclusive`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::{leakhound, repo_root, serial};

fn server(name: &str) -> String {
    repo_root()
        .join("crates/leakhound/tests/servers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `run --json FILE ARGS`: exit code, the JSON (Null when none was written), stdout+stderr.
fn run_json(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = leakhound()
        .arg("run")
        .arg("--json")
        .arg(&json)
        .args(args)
        .stdin(Stdio::null())
        .current_dir(repo_root())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (out.status.code(), v, text)
}

/// A run of `status-routes.js` at `path`, short.
fn run_route(path: &str, extra: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let routes = server("status-routes.js");
    let mut args = vec!["--max-duration", "20s", "--idle", "500ms", "--path", path];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "node", &routes]);
    run_json(&args)
}

fn assert_failed_with(path: &str, status: u64, says: &[&str]) {
    let _l = serial();
    let (code, v, text) = run_route(path, &[]);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(v["verdict"], "target-failed", "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("every response was {status}: ")),
        "{reason}"
    );
    for s in says {
        assert!(reason.contains(s), "{reason} lacks {s}");
    }
    assert_eq!(v["target_failed"], v["reason"]);
    assert!(text.contains(&format!("TARGET FAILED: {reason}")), "{text}");
    // The samples are kept, and the failures are counted.
    assert!(v["samples"].as_array().unwrap().len() >= 3, "{v}");
    assert_eq!(v["http_errors"], v["requests"], "{v}");
    assert!(v["requests"].as_u64().unwrap() > 0);
    assert_eq!(v["load"]["status_codes"][status.to_string()], v["requests"]);
}

#[test]
fn a_route_answering_400_is_a_failed_target_with_the_request_hint() {
    assert_failed_with(
        "/bad",
        400,
        &[
            "check -m, -b and Content-Type",
            "-H 'Content-Type: application/json'",
        ],
    );
}

#[test]
fn a_path_answering_404_is_a_failed_target_with_the_path_hint() {
    assert_failed_with(
        "/api/order",
        404,
        &["the path does not exist", "check --path"],
    );
}

#[test]
fn a_route_answering_401_is_a_failed_target_with_the_auth_hint() {
    assert_failed_with(
        "/auth",
        401,
        &["the route needs auth", "-H 'Authorization: …'"],
    );
}

#[test]
fn expect_status_makes_an_error_path_a_normal_target() {
    let _l = serial();
    let (code, v, text) = run_route("/bad", &["--expect-status", "4xx"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{v}");
    assert_eq!(v["http_errors"], 0, "{v}");
    assert_eq!(v["load"]["failed"], 0, "{v}");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn a_few_failed_requests_leave_the_verdict_with_a_warning() {
    let _l = serial();
    let (code, v, text) = run_route("/flaky", &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{v}");
    let w = v["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{v}");
    let w = w[0].as_str().unwrap();
    assert!(
        w.contains("requests failed (500 ×") && w.contains("the verdict stands on the rest"),
        "{w}"
    );
    assert!(text.contains(&format!("warning: {w}")), "{text}");
    // One in ten: the count is exact up to the requests in flight when a round ends.
    let (failed, total) = (
        v["http_errors"].as_f64().unwrap(),
        v["requests"].as_f64().unwrap(),
    );
    assert!((failed / total - 0.1).abs() < 0.01, "{failed} of {total}");
}

#[test]
fn a_bad_expect_status_is_a_usage_error() {
    let (code, _, text) = run_json(&["--expect-status", "4x", "--", "node", "x.js"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("`4x` is not an HTTP status"), "{text}");
}

#[test]
fn a_target_that_crashes_under_load_is_target_failed() {
    let _l = serial();
    let (code, v, text) = run_json(&[
        "--max-duration",
        "20s",
        "--",
        "node",
        &server("crashes-under-load.js"),
    ]);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(v["verdict"], "target-failed", "{v}");
    assert_eq!(v["oom"], false);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("exited under load without an out-of-memory error"),
        "{v}"
    );
    assert!(
        v["target_stderr_tail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("connection pool exhausted")),
        "{v}"
    );
}

#[test]
fn ctrl_c_writes_interrupted_with_the_statistics_so_far() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let (json, md) = (dir.path().join("int.json"), dir.path().join("int.md"));
    let mut child = leakhound()
        .arg("run")
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .args(["--no-alloc-sites", "--", "node", "scenarios/leak-map.js"])
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for three load rounds on the progress lines, then Ctrl-C.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut rounds = 0;
    for l in lines.by_ref() {
        let l = l.unwrap();
        if l.contains(" load ") && l.contains(" req ") {
            rounds += 1;
        }
        seen.push(l);
        if rounds == 3 {
            break;
        }
    }
    assert_eq!(rounds, 3, "{seen:#?}");
    let status = common::interrupt_and_wait(
        &mut child,
        Duration::from_secs(20),
        "leakhound hung after SIGINT",
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130), "{rest:#?}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["verdict"], "interrupted", "{v}");
    // Baseline, warm-up and the three rounds at least.
    assert!(v["samples"].as_array().unwrap().len() >= 5, "{v}");
    let bpr = v["retained_bytes_per_request"].as_f64().unwrap();
    assert!(
        bpr > 50.0,
        "leak-map retains ~200 B/request, got {bpr}: {v}"
    );
    assert_eq!(v["fit"]["series"], "heap_used", "{v}");
    assert!(v["fit"]["samples_used"].as_array().unwrap().len() >= 4);
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .starts_with("interrupted before a verdict"));
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("**interrupted**"), "{md}");
    assert!(md.contains("interrupted before a verdict"), "{md}");
    // The terminal shows the statistics so far.
    let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    assert!(out.contains("  - so far: "), "{out}");
}
