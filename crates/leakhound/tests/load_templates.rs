//! `{{seq}}`, `{{uuid}}` and `{{rand:A-B}}` give a fresh value per request.
mod common;
mod load_util;

use common::{leakhound, serial, NodeServer};
use load_util::{run_within, server_script, stats, text};
use std::time::Duration;

#[test]
fn templates_give_distinct_values_per_request() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    let mut cmd = leakhound();
    cmd.args([
        "load",
        "-n",
        "300",
        "-c",
        "10",
        "--no-progress",
        "-H",
        "X-Id: {{uuid}}",
        "-b",
        r#"{"user":"u{{rand:1-1000000000}}"}"#,
        &server.url("/t/{{seq}}"),
    ]);
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let st = stats(server.port);
    assert_eq!(st["requests"], 300, "{st}");
    assert_eq!(st["by_method"]["POST"], 300, "a body implies POST: {st}");
    assert_eq!(st["distinct_paths"], 300, "{st}");
    assert_eq!(st["distinct_ids"], 300, "{st}");
    // 300 draws from a billion: a collision is possible but vanishingly rare.
    assert!(st["distinct_bodies"].as_u64().unwrap() >= 299, "{st}");
}
