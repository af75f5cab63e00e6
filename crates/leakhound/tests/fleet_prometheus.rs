//! `leakhound fleet` against a real Prometheus server (the Debian `prometheus` package,
//! installed by `.ci/run`) scraping four Node processes with prom-client's default metrics at
//! a 1 s interval: one leaking, one in an out-of-memory crash loop (restarted by a supervisor
//! on the same port), two healthy. `fleet` must flag the first two and only those. The same
//! Prometheus scrapes `leakhound gc --follow --metrics`, and one of its metrics must arrive.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use common::{free_port, kill_group, leakhound, repo_root, NodeServer};

/// A child in its own process group, killed (group-wide) on drop, even when the test panics.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        kill_group(self.0.id());
        let _ = self.0.wait();
    }
}

/// prom-client, installed once into a cache under target/.
fn prom_client() -> PathBuf {
    let prefix = repo_root().join("target/test-npm");
    let modules = prefix.join("node_modules");
    if !modules.join("prom-client/package.json").exists() {
        let st = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg("prom-client@15")
            .stdout(Stdio::null())
            .status()
            .expect("run npm");
        assert!(st.success(), "npm install prom-client failed");
    }
    modules
}

fn prometheus_bin() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("prometheus"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => p,
        None => panic!(
            "prometheus is not installed: this test needs a real Prometheus server \
             (`apt-get install -y prometheus`, as .ci/run does)"
        ),
    }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect()
}

/// GET from 127.0.0.1:port; the status and body (HTTP/1.0: no chunking, closed at the end).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut r = String::new();
    s.read_to_string(&mut r).ok()?;
    let status = r.split(' ').nth(1)?.parse().ok()?;
    let body = r.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

/// An instant query's result vector.
fn query(port: u16, q: &str) -> Vec<serde_json::Value> {
    let Some((200, body)) = get(port, &format!("/api/v1/query?query={}", encode(q))) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn node_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(name)
}

#[test]
fn fleet_flags_the_leaking_and_the_crash_looping_instances_only() {
    let _s = common::serial();
    let started = Instant::now();
    let prometheus = prometheus_bin();
    let modules = prom_client();
    let node_path = modules.to_str().unwrap();

    let app = node_script("prom-app.js");
    let leaking = NodeServer::start(&app, &[("NODE_PATH", node_path), ("MODE", "leak")]);
    let looping = NodeServer::start(
        &node_script("prom-supervisor.js"),
        &[
            ("NODE_PATH", node_path),
            ("MODE", "leak"),
            ("LEAK_KB", "300"),
            ("NODE_ARGS", "--max-old-space-size=24"),
        ],
    );
    let healthy_a = NodeServer::start(&app, &[("NODE_PATH", node_path), ("MODE", "healthy")]);
    let healthy_b = NodeServer::start(&app, &[("NODE_PATH", node_path), ("MODE", "healthy")]);

    // `gc --follow --metrics` fed by a leaking process' --trace-gc output.
    let metrics_port = free_port();
    let mut traced = Command::new("node");
    traced
        .args(["--trace-gc"])
        .arg(&app)
        .env("NODE_PATH", node_path)
        .env("MODE", "leak")
        .env("PORT", free_port().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    let mut traced = Guard(traced.spawn().expect("spawn node --trace-gc"));
    let trace = traced.0.stdout.take().unwrap();
    let follower = Guard(
        leakhound()
            .args(["gc", "--follow", "--metrics"])
            .arg(format!("127.0.0.1:{metrics_port}"))
            .arg("-")
            .stdin(Stdio::from(trace))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn leakhound gc"),
    );

    let dir = tempfile::tempdir().unwrap();
    let targets = [&leaking, &looping, &healthy_a, &healthy_b]
        .iter()
        .map(|s| format!("'127.0.0.1:{}'", s.port))
        .collect::<Vec<_>>()
        .join(", ");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n\
             \x20 - job_name: node\n    static_configs:\n      - targets: [{targets}]\n\
             \x20 - job_name: leakhound\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .unwrap();
    let prom_port = free_port();
    let _prom = Guard(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn prometheus"),
    );
    let deadline = started + Duration::from_secs(110);
    let wait = |what: &str, ok: &dyn Fn() -> bool| {
        while !ok() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    wait("Prometheus to be ready", &|| {
        matches!(get(prom_port, "/-/ready"), Some((200, _)))
    });
    eprintln!("prometheus ready after {:?}", started.elapsed());
    // A minute of scrapes of every node target (the window the fleet reads).
    wait("60 s of scrapes", &|| {
        let r = query(prom_port, "min(count_over_time(up{job=\"node\"}[90s]))");
        r.first()
            .and_then(|v| v["value"][1].as_str())
            .and_then(|s| s.parse::<f64>().ok())
            .is_some_and(|n| n >= 62.0)
    });

    eprintln!("a minute of data after {:?}", started.elapsed());
    let out = leakhound()
        .args(["fleet", "--prometheus"])
        .arg(format!("http://127.0.0.1:{prom_port}"))
        .args([
            "--selector",
            "{job=\"node\"}",
            "--window",
            "60s",
            "--step",
            "1s",
        ])
        .args(["--json", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fleet JSON");
    assert_eq!(doc["schema"], "leakhound.fleet/v1");
    assert!(doc["queries"].as_u64().unwrap() <= 3, "{}", doc["queries"]);
    let verdict_of = |port: u16| {
        let inst = format!("127.0.0.1:{port}");
        doc["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["instance"] == inst.as_str())
            .unwrap_or_else(|| panic!("{inst} missing: {stderr}"))
            .clone()
    };
    let l = verdict_of(leaking.port);
    assert_eq!(l["verdict"], "leak", "{stderr}");
    assert_eq!(l["restarts"], 0, "{stderr}");
    let c = verdict_of(looping.port);
    assert_eq!(c["verdict"], "leak", "{stderr}");
    assert!(c["restarts"].as_u64().unwrap() >= 2, "{stderr}");
    assert!(
        c["evidence"][0].as_str().unwrap().starts_with("restarted "),
        "{stderr}"
    );
    for h in [&healthy_a, &healthy_b] {
        assert_eq!(verdict_of(h.port)["verdict"], "no-leak", "{stderr}");
    }
    // The table went to stderr, ranked: leaks above the healthy instances.
    let rows: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("127.0.0.1:") && !l.ends_with(':'))
        .collect();
    assert_eq!(rows.len(), 4, "{stderr}");
    assert!(
        rows[0].ends_with("LEAK") && rows[1].ends_with("LEAK"),
        "{stderr}"
    );

    // leakhound's own metrics reached the same Prometheus.
    wait("leakhound's metrics in Prometheus", &|| {
        !query(
            prom_port,
            "leakhound_gc_events_total{job=\"leakhound\"} > 0",
        )
        .is_empty()
    });
    let verdict = query(prom_port, "leakhound_verdict{job=\"leakhound\"}");
    assert_eq!(verdict.len(), 1, "{verdict:?}");
    assert_eq!(verdict[0]["metric"]["source"], "stdin");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    drop(follower);
    drop(traced);
}
