//! `leakhound fleet`'s command line against a stand-in Prometheus (a thread answering
//! `query_range` with canned matrices): exit codes, the loopback rule, the outputs. The real
//! server is exercised in `fleet_prometheus.rs`.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::leakhound;

const MIB: f64 = 1024.0 * 1024.0;

/// A matrix response: one series per `(instance, values)`.
fn matrix(series: &[(&str, Vec<f64>)]) -> String {
    let result: Vec<serde_json::Value> = series
        .iter()
        .map(|(inst, vals)| {
            let values: Vec<serde_json::Value> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| serde_json::json!([1_700_000_000.0 + 2.0 * i as f64, v.to_string()]))
                .collect();
            serde_json::json!({"metric": {"job": "api", "instance": inst}, "values": values})
        })
        .collect();
    serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": result}})
        .to_string()
}

/// Serve `answer(request line)` on 127.0.0.1 until the test ends; returns the port and the
/// request lines seen.
fn fake_prometheus(
    answer: impl Fn(&str) -> (u16, String) + Send + 'static,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let line = String::from_utf8_lossy(&buf)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let (status, body) = answer(&line);
            log.lock().unwrap().push(line);
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

fn sawtooth(n: usize, floor: impl Fn(usize) -> f64) -> Vec<f64> {
    (0..n)
        .map(|i| floor(i) + (i % 4) as f64 * 2.0 * MIB)
        .collect()
}

#[test]
fn a_leaking_instance_is_exit_1_ranked_first_in_every_output() {
    let heap = matrix(&[
        ("10.0.0.2:9100", sawtooth(40, |_| 40.0 * MIB)),
        (
            "10.0.0.1:9100",
            sawtooth(40, |i| 40.0 * MIB + i as f64 * 0.5 * MIB),
        ),
    ]);
    let (port, seen) = fake_prometheus(move |line| {
        if line.contains("nodejs_heap_size_used_bytes") {
            (200, heap.clone())
        } else {
            (200, matrix(&[]))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("fleet.json");
    let md = dir.path().join("fleet.md");
    let out = leakhound()
        .args(["fleet", "--prometheus"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args([
            "--selector",
            "{job=\"api\"}",
            "--window",
            "80s",
            "--step",
            "2s",
        ])
        .args(["--heap-limit", "100MB", "--json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], "leakhound.fleet/v1");
    assert_eq!(doc["metric"], "nodejs_heap_size_used_bytes");
    assert_eq!(doc["instances"][0]["instance"], "10.0.0.1:9100");
    assert_eq!(doc["instances"][0]["verdict"], "leak");
    assert_eq!(doc["instances"][0]["heap_limit_source"], "flag");
    let rate = doc["instances"][0]["bytes_per_hour"].as_f64().unwrap();
    assert!((rate / (0.25 * MIB * 3600.0) - 1.0).abs() < 0.05, "{rate}");
    assert!(doc["instances"][0]["time_to_oom_s"].as_f64().unwrap() > 0.0);
    assert_eq!(doc["instances"][1]["verdict"], "no-leak");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("| `10.0.0.1:9100` | api | 1 |"), "{md}");
    let first_row = stdout.lines().find(|l| l.starts_with("10.0.0.")).unwrap();
    assert!(
        first_row.starts_with("10.0.0.1:9100") && first_row.ends_with("LEAK"),
        "{stdout}"
    );
    // One query for the heap, one for the start times: the selector went into both.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|l| l.contains("%7Bjob%3D%22api%22%7D") && l.contains("step=2")),
        "{seen:?}"
    );
}

#[test]
fn too_little_data_is_exit_3_and_prometheus_errors_exit_2() {
    let (port, _) = fake_prometheus(|line| {
        if line.contains("nodejs_heap_size_used_bytes") {
            (200, matrix(&[("a:1", vec![MIB; 10])]))
        } else {
            (200, matrix(&[]))
        }
    });
    let out = leakhound()
        .args(["fleet", "--prometheus"])
        .arg(format!("http://localhost:{port}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("at most 10 points per instance"), "{err}");

    // No series at all (every heap metric tried, each once): exit 3 too.
    let (port, seen) = fake_prometheus(|_| (200, matrix(&[])));
    let out = leakhound()
        .args(["fleet", "--prometheus"])
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no series of nodejs_heap_size_used_bytes")
    );
    assert_eq!(seen.lock().unwrap().len(), 3);

    let (port, _) = fake_prometheus(|_| {
        (
            400,
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#.to_string(),
        )
    });
    let out = leakhound()
        .args(["fleet", "--prometheus"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args(["--metric", "my_heap"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad_data: parse error"), "{err}");
}

#[test]
fn only_loopback_prometheus_urls_are_accepted() {
    for url in ["http://10.0.0.1:9090", "http://prometheus.example:9090"] {
        let out = leakhound()
            .args(["fleet", "--prometheus", url])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("is not a loopback address"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A bad output path is refused before any query (nothing listens on port 1).
    let out = leakhound()
        .args([
            "fleet",
            "--prometheus",
            "http://127.0.0.1:1",
            "--json",
            "/no/such/dir/f.json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("--json /no/such/dir/f.json"), "{err}");
}
