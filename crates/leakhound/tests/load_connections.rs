//! Connection shapes (issue 11), for `load` and `run`: `--no-keepalive` opens a connection per
//! request (as the server counts them), the user's own `-H 'Connection: close'` does the same,
//! `--abort` abandons the share asked for (the server sees those requests, and they are
//! neither errors nor failed requests), and a per-connection leak that keep-alive load cannot
//! see is found with `--no-keepalive`.
mod common;
mod load_util;

use common::{leakhound, repo_root, serial, NodeServer};
use load_util::{run_within, server_script, text};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Output;
use std::time::{Duration, Instant};

/// GET /count from `connection-counter.js`.
fn count(port: u16) -> serde_json::Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect for /count");
    s.write_all(b"GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut t = String::new();
    s.read_to_string(&mut t).unwrap();
    serde_json::from_str(t.split("\r\n\r\n").nth(1).expect("a body")).expect("count JSON")
}

/// /count once the server has read `requests` requests (an aborted request's bytes may still be
/// in flight when `load` returns), or after 10 s, whichever comes first.
fn count_after(port: u16, requests: u64) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let c = count(port);
        if c["requests"].as_u64() >= Some(requests) || start.elapsed() > Duration::from_secs(10) {
            return c;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `load --json - ARGS URL` against `server`: the JSON summary and the text on stderr.
fn load_json(server: &NodeServer, path: &str, args: &[&str]) -> (Output, serde_json::Value) {
    let mut cmd = leakhound();
    cmd.arg("load")
        .args(args)
        .args(["--json", "-", "--no-progress", &server.url(path)]);
    let (out, _) = run_within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("load JSON");
    (out, v)
}

fn errors_total(v: &serde_json::Value) -> u64 {
    v["errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum()
}

#[test]
fn no_keepalive_opens_a_connection_per_request() {
    let _s = serial();
    let server = NodeServer::start(&server_script("connection-counter.js"), &[]);
    let (out, v) = load_json(&server, "/x", &["--no-keepalive", "-n", "200", "-c", "10"]);
    assert_eq!(v["successful"], 200, "{v}");
    assert_eq!(v["connections_opened"], 200, "{v}");
    let c = count_after(server.port, 200);
    assert_eq!(
        (c["requests"].as_u64(), c["connections"].as_u64()),
        (Some(200), Some(200)),
        "{c}"
    );
    assert!(
        text(&out.stderr).contains("Connections opened: 200\n"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn keep_alive_reuses_and_the_users_connection_close_is_the_same_as_no_keepalive() {
    let _s = serial();
    let server = NodeServer::start(&server_script("connection-counter.js"), &[]);
    let (_, v) = load_json(&server, "/x", &["-n", "200", "-c", "10"]);
    assert_eq!(v["connections_opened"], 10, "{v}");
    assert_eq!(count_after(server.port, 200)["connections"], 10);
    let (_, v) = load_json(
        &server,
        "/x",
        &["-H", "Connection: close", "-n", "100", "-c", "10"],
    );
    assert_eq!(
        (v["successful"].as_u64(), v["connections_opened"].as_u64()),
        (Some(100), Some(100)),
        "{v}"
    );
    assert_eq!(count_after(server.port, 300)["connections"], 110);
}

#[test]
fn abort_ten_percent_is_counted_and_the_server_saw_those_requests() {
    let _s = serial();
    let server = NodeServer::start(&server_script("connection-counter.js"), &[]);
    let (out, v) = load_json(
        &server,
        "/slow",
        &["--abort", "10%", "-n", "1000", "-c", "10"],
    );
    let aborted = v["aborted"].as_u64().unwrap();
    assert!((95..=105).contains(&aborted), "{v}");
    assert_eq!(v["failed"], 0, "aborted requests are not failures: {v}");
    assert_eq!(errors_total(&v), 0, "{v}");
    assert_eq!(v["successful"].as_u64().unwrap() + aborted, 1000, "{v}");
    assert_eq!(v["total_requests"], 1000, "{v}");
    // Each abort closes its connection, the next request on that slot opens a new one.
    let opened = v["connections_opened"].as_u64().unwrap();
    assert!((aborted..=aborted + 10).contains(&opened), "{v}");
    let c = count_after(server.port, 1000);
    assert_eq!(c["requests"], 1000, "{c}");
    assert_eq!(c["connections"].as_u64(), Some(opened), "{c}");
    // The server answers /slow after 5 ms: the aborting client has gone by then.
    let cancelled = c["cancelled"].as_u64().unwrap();
    assert!(
        cancelled <= aborted && cancelled * 10 >= aborted * 9,
        "server saw {cancelled} cancelled of {aborted} aborted: {c}"
    );
    let err = text(&out.stderr);
    assert!(err.contains("Aborted (by the client, --abort): "), "{err}");
    assert!(err.contains("Errors: none"), "{err}");
}

/// `run --json FILE ARGS -- node SERVER`, bounded: exit code, JSON, the text output.
fn run_json(args: &[&str], server: &str) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut cmd = leakhound();
    cmd.arg("run")
        .arg("--json")
        .arg(&json)
        .args(args)
        .args(["--", "node"])
        .arg(server_script(server))
        .current_dir(repo_root());
    let (out, _) = run_within(cmd, Duration::from_secs(90));
    let v = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (
        out.status.code(),
        v,
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

#[test]
fn a_per_connection_leak_is_invisible_with_keep_alive() {
    let _s = serial();
    let (code, v, out) = run_json(&["--max-duration", "40s"], "per-connection-leak.js");
    assert_ne!(v["verdict"], "leak", "{out}");
    assert!(
        ["no-leak", "inconclusive"].contains(&v["verdict"].as_str().unwrap_or_default()),
        "{out}"
    );
    assert_ne!(code, Some(1), "{out}");
    let load = &v["load"];
    assert!(
        load["connections_opened"].as_u64().unwrap() * 100
            < load["total_requests"].as_u64().unwrap(),
        "keep-alive reuses its connections: {load}"
    );
}

#[test]
fn no_keepalive_finds_the_per_connection_leak() {
    let _s = serial();
    let (code, v, out) = run_json(
        &["--no-keepalive", "--max-duration", "40s"],
        "per-connection-leak.js",
    );
    assert_eq!(v["verdict"], "leak", "{out}");
    assert_eq!(code, Some(1), "{out}");
    // Each socket keeps well over a kilobyte (the socket, its parser glue, its state).
    let bpr = v["retained_bytes_per_request"].as_f64().unwrap();
    assert!(bpr > 500.0, "{bpr} B/request: {out}");
    let load = &v["load"];
    assert_eq!(load["connections_opened"], load["total_requests"], "{load}");
    assert_eq!(load["failed"], 0, "{load}");
    assert!(out.contains("connections opened for"), "{out}");
}

#[test]
fn run_counts_aborted_requests_apart_from_failures() {
    let _s = serial();
    let (code, v, out) = run_json(
        &[
            "--abort",
            "5%",
            "--path",
            "/slow",
            "--max-duration",
            "20s",
            "--idle",
            "500ms",
        ],
        "connection-counter.js",
    );
    let load = &v["load"];
    let total = load["total_requests"].as_u64().unwrap() as f64;
    let aborted = load["aborted"].as_u64().unwrap() as f64;
    assert!(total > 1000.0, "{load}");
    assert!(
        (aborted - 0.05 * total).abs() <= 0.005 * total + 5.0,
        "{aborted} aborted of {total}: {load}"
    );
    assert_eq!(load["failed"], 0, "{load}");
    assert_eq!(v["http_errors"], 0, "{v}");
    assert_eq!(v["transport_errors"], 0, "{v}");
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(0), "{v}");
    assert_ne!(v["verdict"], "target-failed", "{out}");
    assert_ne!(v["verdict"], "leak", "{out}");
    assert_ne!(code, Some(4), "{out}");
    assert!(out.contains("aborted by the client (--abort)"), "{out}");
}
