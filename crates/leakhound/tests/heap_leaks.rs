//! `leakhound heap leaks` on real servers: the seed's leaky example (started with
//! `--heapsnapshot-signal`, so the example itself has no test-only code) must be named with
//! its growing `responseCache` and the path that holds it; the fixed example, whose cache is
//! bounded, must show nothing significant.
mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BODY: &str =
    r#"{"items":["sample_item"],"userContext":{"userId":"test-user","sessionId":"test-session"}}"#;

fn post(port: u16, n: usize) {
    for _ in 0..n {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /api/data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            BODY.len(),
            BODY
        )
        .unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        assert!(
            resp.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&resp)
        );
    }
}

/// Send SIGUSR2 and wait for the new snapshot file to be complete.
fn snapshot(server: &NodeServer, dir: &Path, seen: usize) -> PathBuf {
    unsafe { libc::kill(server.child.id() as i32, libc::SIGUSR2) };
    let t0 = Instant::now();
    loop {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no snapshot written"
        );
        std::thread::sleep(Duration::from_millis(100));
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "heapsnapshot"))
            .collect();
        files.sort();
        if files.len() > seen {
            let f = files.last().unwrap().clone();
            let a = std::fs::read(&f).unwrap();
            if a.trim_ascii_end().ends_with(b"]}") {
                std::thread::sleep(Duration::from_millis(200));
                if std::fs::metadata(&f).unwrap().len() == a.len() as u64 {
                    return f;
                }
            }
        }
    }
}

fn three_snapshots(example: &str, dir: &Path) -> Vec<PathBuf> {
    let opts = format!(
        "--heapsnapshot-signal=SIGUSR2 --diagnostic-dir={}",
        dir.display()
    );
    let server = NodeServer::start(
        &repo_root().join("examples").join(example),
        &[("NODE_OPTIONS", &opts)],
    );
    post(server.port, 1200); // warm-up: fills the fixed server's bounded cache
    let s1 = snapshot(&server, dir, 0);
    post(server.port, 2500);
    let s2 = snapshot(&server, dir, 1);
    std::thread::sleep(Duration::from_millis(300));
    let s3 = snapshot(&server, dir, 2);
    vec![s1, s2, s3]
}

fn leaks_json(files: &[PathBuf]) -> serde_json::Value {
    let out = leakhound()
        .args(["heap", "leaks"])
        .args(files)
        .args(["--json", "-"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    // A leak exits 1, as in `run` and `gc`; nothing significant exits 0.
    let want = if v["significant"] == true { 1 } else { 0 };
    assert_eq!(
        out.status.code(),
        Some(want),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

#[test]
fn leaks_names_the_growing_response_cache() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let files = three_snapshots("leaky-server.js", tmp.path());
    let r = leaks_json(&files);
    assert_eq!(r["significant"], true, "{r:#}");
    let top = &r["groups"][0];
    assert_eq!(top["significant"], true);
    // One entry per request between S1 and S2 survives, all on one path shape.
    let n = top["instances"].as_u64().unwrap();
    assert!((2400..=2600).contains(&n), "instances {n}: {top:#}");
    assert_eq!(top["holder"], "responseCache (Map)", "{top:#}");
    let path = top["path"].as_str().unwrap();
    assert!(path.contains("responseCache (Map) > table"), "{path}");
    // The text output names it too.
    let out = leakhound()
        .args(["heap", "leaks"])
        .args(&files)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    let out = leakhound()
        .args(["heap", "summary"])
        .arg(&files[2])
        .output()
        .unwrap();
    assert!(out.status.success());
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        text.contains("LEAK") && text.contains("responseCache (Map)"),
        "{text}"
    );
}

#[test]
fn leaks_reports_nothing_significant_for_the_fixed_server() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let files = three_snapshots("fixed-server.js", tmp.path());
    let r = leaks_json(&files);
    assert_eq!(r["significant"], false, "{r:#}");
    let out = leakhound()
        .args(["heap", "leaks"])
        .args(&files)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no significant leak"));
}
