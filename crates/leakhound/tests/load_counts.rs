//! `-n` is exact and `-c` bounds the connections, as counted by the server itself.
mod common;
mod load_util;

use common::{leakhound, serial, NodeServer};
use load_util::{run_within, server_script, stats, text};
use std::time::Duration;

#[test]
fn n_1000_is_exactly_1000_requests_at_the_server() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    let mut cmd = leakhound();
    cmd.args([
        "load",
        "-n",
        "1000",
        "-c",
        "20",
        "--no-progress",
        &server.url("/x"),
    ]);
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let st = stats(server.port);
    assert_eq!(st["requests"], 1000, "{st}");
    assert!(
        text(&out.stdout).contains("Total requests: 1000"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("Successful: 1000"));
}

#[test]
fn keep_alive_connections_never_exceed_c() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    let mut cmd = leakhound();
    cmd.args([
        "load",
        "-n",
        "3000",
        "-c",
        "8",
        "--no-progress",
        &server.url("/chunked"),
    ]);
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let st = stats(server.port);
    assert_eq!(st["requests"], 3000, "{st}");
    let conns = st["connections"].as_u64().unwrap();
    assert!(
        (1..=8).contains(&conns),
        "opened {conns} connections for -c 8: {st}"
    );
    assert!(st["max_open"].as_u64().unwrap() <= 8, "{st}");
}
