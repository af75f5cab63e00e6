//! Each bad input: one clear line naming the problem, exit code 2.
mod common;
mod load_util;

use common::leakhound;
use load_util::{run_within, text};
use std::time::Duration;

fn fails_with(args: &[&str], needle: &str) {
    let mut cmd = leakhound();
    cmd.args(args);
    let (out, _) = run_within(cmd, Duration::from_secs(10));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("leakhound: error: "), "{err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
}

#[test]
fn malformed_url() {
    fails_with(&["load", "-n", "1", "127.0.0.1:3000/x"], "invalid URL");
    fails_with(
        &["load", "-n", "1", "http://127.0.0.1:notaport/"],
        "bad port",
    );
}

#[test]
fn unknown_endpoint() {
    let cfg = common::repo_root().join("examples/leakhound.toml");
    fails_with(
        &["load", "--config", cfg.to_str().unwrap(), "5", "nope"],
        "unknown endpoint \"nope\"; available: data, health",
    );
}

#[test]
fn malformed_config() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[endpoints.data]\npath = \"/x\"\nweigth = 2\n").unwrap();
    fails_with(
        &["load", "--config", bad.to_str().unwrap()],
        "unknown field `weigth`",
    );
    std::fs::write(&bad, "[target\n").unwrap();
    fails_with(&["load", "--config", bad.to_str().unwrap()], "bad.toml");
    fails_with(
        &["load", "--config", "/nonexistent/leakhound.toml"],
        "reading config",
    );
}

#[test]
fn zero_connections() {
    fails_with(
        &["load", "-c", "0", "http://127.0.0.1:9/"],
        "connections must be at least 1",
    );
}

#[test]
fn missing_body_file() {
    fails_with(
        &[
            "load",
            "-n",
            "1",
            "-b",
            "@/nonexistent/body.json",
            "http://127.0.0.1:9/",
        ],
        "reading body file",
    );
}
