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
        "not `Name: value`",
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
        "no endpoint named `nope`",
    );
    usage_error(
        &["run", "--path", "api", "--", "node", "x.js"],
        "must start with `/`",
    );
    usage_error(&["run", "--", "/no/such/program-lh"], "cannot start");
}
