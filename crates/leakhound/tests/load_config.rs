//! `--config`: the seed's named endpoints, weights for a mix, and the seed's CLI shape.
mod common;
mod load_util;

use common::{leakhound, serial, NodeServer};
use load_util::{run_within, server_script, stats, text};
use std::time::Duration;

fn config(port: u16) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    let text = format!(
        r#"
[target]
host = "127.0.0.1"
port = {port}

[endpoints.data]
path = "/api/data"
method = "POST"
headers = {{ "Content-Type" = "application/json" }}
body = '{{"items":["sample_item"]}}'
weight = 3

[endpoints.list]
path = "/api/list"
weight = 1

[endpoints.health]
path = "/health"
weight = 0
"#
    );
    std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
    f
}

#[test]
fn named_endpoint_like_the_seeds_load_test() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    let cfg = config(server.port);
    let mut cmd = leakhound();
    cmd.args(["load", "--no-progress", "--config"])
        .arg(cfg.path())
        .args(["100", "data"]);
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let st = stats(server.port);
    assert_eq!(st["requests"], 100, "{st}");
    assert_eq!(st["by_path"]["/api/data"], 100, "{st}");
    assert_eq!(st["by_method"]["POST"], 100, "{st}");
    assert_eq!(st["distinct_bodies"], 1, "{st}");
    // 100 concurrent: one connection per request, as the seed's burst.
    assert_eq!(st["connections"], 100, "{st}");
}

#[test]
fn weights_mix_endpoints_and_weight_0_is_left_out() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    let cfg = config(server.port);
    let mut cmd = leakhound();
    cmd.args([
        "load",
        "--no-progress",
        "-n",
        "2000",
        "-c",
        "10",
        "--config",
    ])
    .arg(cfg.path());
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let st = stats(server.port);
    assert_eq!(st["requests"], 2000, "{st}");
    let data = st["by_path"]["/api/data"].as_f64().unwrap();
    let list = st["by_path"]["/api/list"].as_f64().unwrap();
    assert!(
        st["by_path"]["/health"].is_null(),
        "weight 0 was loaded: {st}"
    );
    // Expected 1500:500; a binomial spread of that size stays well inside 2.4..3.7.
    let ratio = data / list;
    assert!((2.4..3.7).contains(&ratio), "data/list = {ratio}: {st}");
}

#[test]
fn unknown_endpoint_lists_the_available_ones() {
    let _s = serial();
    let cfg = config(1);
    let mut cmd = leakhound();
    cmd.args(["load", "--no-progress", "--config"])
        .arg(cfg.path())
        .args(["10", "nope"]);
    let (out, _) = run_within(cmd, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown endpoint \"nope\"") && err.contains("data, health, list"),
        "{err}"
    );
}
