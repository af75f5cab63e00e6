//! `leakhound run` usage errors: one line, exit 2, before anything is started.

mod common;

use common::{leakhound, repo_root};

fn usage_error(args: &[&str], needle: &str) {
    let out = leakhound()
        .current_dir(repo_root())
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{args:?}: {err}");
}

#[test]
fn bad_invocations_are_one_line_and_exit_2() {
    usage_error(&["run"], "leakhound: error:");
    usage_error(
        &["run", "-H", "novalue", "--", "node", "x.js"],
        "expected \"Name: value\"",
    );
    usage_error(
        &["run", "--endpoint", "data", "--", "node", "x.js"],
        "--endpoint needs --config",
    );
    usage_error(
        &[
            "run",
            "--config",
            "examples/leakhound.toml",
            "--endpoint",
            "nope",
            "--",
            "node",
            "x.js",
        ],
        "unknown endpoint \"nope\"; available:",
    );
    usage_error(
        &["run", "--path", "api", "--", "node", "x.js"],
        "must start with '/'",
    );
    usage_error(&["run", "--", "/no/such/program-lh"], "cannot start");
    usage_error(&["run", "-c", "0", "--", "node", "x.js"], "-c 0");
    usage_error(
        &["run", "-n", "0", "--", "node", "x.js"],
        "-n must be at least 1",
    );
    usage_error(
        &["run", "--fail-on", "leak,oops", "--", "node", "x.js"],
        "unknown condition `oops`",
    );
    usage_error(
        &["run", "--max-gc-share", "lots", "--", "node", "x.js"],
        "--max-gc-share",
    );
    usage_error(
        &[
            "run",
            "--config",
            "examples/leakhound.toml",
            "--path",
            "/x",
            "--",
            "node",
            "x.js",
        ],
        "--path does not apply with --config",
    );
}
