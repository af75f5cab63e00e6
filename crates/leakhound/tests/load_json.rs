//! `--json` prints one object with every field of the summary.
mod common;
mod load_util;

use common::{leakhound, serial, NodeServer};
use load_util::{run_within, server_script, stats, text};
use std::time::Duration;

#[test]
fn json_object_has_every_summary_field() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    // A mix of 200s and 500s through a config, so status codes and failures are non-trivial.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[target]\nport = {}\n[endpoints.ok]\npath = \"/ok\"\n[endpoints.boom]\npath = \"/status/500\"\n",
            server.port
        ),
    )
    .unwrap();
    let mut cmd = leakhound();
    cmd.args([
        "load",
        "--json",
        "-",
        "-n",
        "200",
        "-c",
        "4",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for field in [
        "schema",
        "target",
        "endpoints",
        "connections",
        "rate",
        "rounds",
        "total_requests",
        "successful",
        "failed",
        "total_time_s",
        "requests_per_sec",
        "latency",
        "status_codes",
        "status_classes",
        "errors",
        "bytes_received",
        "completed_after_deadline",
        "first_failures",
        "aborted",
        "connections_opened",
    ] {
        assert!(j.get(field).is_some(), "missing {field}: {j}");
    }
    for field in [
        "min_ms", "avg_ms", "max_ms", "p50_ms", "p90_ms", "p99_ms", "p999_ms",
    ] {
        assert!(
            j["latency"][field].as_f64().unwrap() > 0.0,
            "latency.{field}: {j}"
        );
    }
    for kind in [
        "refused",
        "reset",
        "timeout",
        "connect-timeout",
        "bad-response",
        "closed-early",
        "other",
    ] {
        assert_eq!(j["errors"][kind], 0, "{kind}: {j}");
    }
    assert_eq!(j["schema"], "leakhound.load/v1");
    assert_eq!(j["total_requests"], 200);
    let ok = j["status_codes"]["200"].as_u64().unwrap();
    let boom = j["status_codes"]["500"].as_u64().unwrap();
    assert_eq!(ok + boom, 200, "{j}");
    assert_eq!(j["successful"], ok);
    assert_eq!(j["failed"], boom);
    assert_eq!(j["status_classes"]["5xx"], boom);
    assert_eq!(j["first_failures"].as_array().unwrap().len(), 5, "{j}");
    assert_eq!(j["first_failures"][0]["reason"], "HTTP 500");
    assert!(j["bytes_received"].as_u64().unwrap() > 200 * 100, "{j}");
    assert_eq!(stats(server.port)["requests"], 200);
}
