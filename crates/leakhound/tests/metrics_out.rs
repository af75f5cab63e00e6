//! `leakhound gc --follow - --metrics ADDR`: OpenMetrics served while the trace streams in,
//! loopback only. (Scraped by a real Prometheus in `fleet_prometheus.rs`.)

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{free_port, leakhound, repo_root};

fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut r = String::new();
    s.read_to_string(&mut r).ok()?;
    Some(r)
}

#[test]
fn a_followed_trace_is_served_as_openmetrics_until_the_input_ends() {
    let port = free_port();
    let mut child = leakhound()
        .args(["gc", "--follow", "--heap-limit", "64", "--metrics"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let trace =
        std::fs::read(repo_root().join("tests/fixtures/gc-traces/node20-leak-oom.log")).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&trace).unwrap();
    stdin.flush().unwrap();
    // The leak shows once the whole trace is read (the input stays open meanwhile).
    let start = Instant::now();
    let text = loop {
        if let Some(r) = scrape(port) {
            let verdict = r
                .lines()
                .find(|l| l.starts_with("leakhound_verdict{source=\"stdin\""));
            if verdict.is_some_and(|l| l.ends_with("} 1")) {
                break r;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no leak verdict served"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.contains("Content-Type: application/openmetrics-text"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("\nleakhound_live_set_floor_bytes{source=\"stdin\""),
        "{text}"
    );
    assert!(text.contains("\nleakhound_heap_limit_bytes{"), "{text}");
    drop(stdin);
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(1), "a leak ends the follow with exit 1");
}

#[test]
fn metrics_bind_to_loopback_only_and_need_follow() {
    let out = leakhound()
        .args(["gc", "--follow", "--metrics", "0.0.0.0:9464", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not a loopback address"), "{err}");
    let out = leakhound()
        .args(["gc", "--metrics", "127.0.0.1:9464", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--follow"));
}
