//! A server that never answers, and one that dies mid-run: honest summaries, no hang.
mod common;
mod load_util;

use common::{leakhound, serial, NodeServer};
use load_util::{run_within, server_script, text};
use std::time::{Duration, Instant};

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn per_request_timeout_fires_against_a_server_that_never_answers() {
    let _s = serial();
    let server = NodeServer::start(&server_script("silent-server.js"), &[]);
    let mut cmd = leakhound();
    cmd.args([
        "load",
        "--json",
        "-",
        "--timeout",
        "300ms",
        "-n",
        "4",
        "-c",
        "2",
        &server.url("/"),
    ]);
    let (out, elapsed) = run_within(cmd, Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(4),
        "nothing succeeded: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("not a single request succeeded"));
    let j = json(&out);
    assert_eq!(j["total_requests"], 4, "{j}");
    assert_eq!(j["errors"]["timeout"], 4, "{j}");
    // Two rounds of 300 ms on two connections, plus start-up.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(
        j["first_failures"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("timeout"),
        "{j}"
    );
}

#[test]
fn a_server_killed_mid_run_gives_failures_no_hang_and_a_normal_exit() {
    let _s = serial();
    let mut server = NodeServer::start(&server_script("counting-server.js"), &[]);
    let url = server.url("/x");
    let mut cmd = leakhound();
    cmd.args(["load", "--json", "-", "-d", "3s", "-c", "10", &url]);
    let start = Instant::now();
    let runner = std::thread::spawn(move || run_within(cmd, Duration::from_secs(20)));
    std::thread::sleep(Duration::from_millis(1000));
    server.kill();
    let (out, _) = runner.join().unwrap();
    let elapsed = start.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let j = json(&out);
    assert!(j["successful"].as_u64().unwrap() > 0, "{j}");
    assert!(j["failed"].as_u64().unwrap() > 0, "{j}");
    assert!(j["errors"]["refused"].as_u64().unwrap() > 0, "{j}");
    assert_eq!(
        j["total_requests"].as_u64().unwrap(),
        j["successful"].as_u64().unwrap() + j["failed"].as_u64().unwrap()
    );
    // Backoff, not a busy loop: 10 connections over ~2 s of a dead port stay in the hundreds.
    assert!(j["errors"]["refused"].as_u64().unwrap() < 1000, "{j}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}
