//! `leakhound attach` against real Node servers the test starts itself (not through
//! `leakhound run`), driven by `leakhound load`: the verdicts, and that the process is left as
//! it was (still serving, its inspector closed again when leakhound opened it, left open when
//! it was already open). SIGUSR1 opens Node's inspector on 127.0.0.1:9229, so every test holds
//! the serial lock and checks that nothing else listens there.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, kill_group, leakhound, repo_root, serial};

fn script() -> PathBuf {
    repo_root().join("crates/leakhound/tests/servers/attach-target.js")
}

/// A Node process started by the test, killed (group-wide) on drop.
struct Node {
    child: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

impl Node {
    fn start(node_args: &[&str], envs: &[(&str, &str)], stderr: Stdio) -> Node {
        let port = free_port();
        let mut cmd = Command::new("node");
        cmd.args(node_args)
            .arg(script())
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let node = Node {
            child: cmd.spawn().expect("spawn node"),
            port,
        };
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "node did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        node
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// GET a path of the app; `None` when it does not answer.
    fn get(&self, path: &str) -> Option<String> {
        http_get(self.port, path)
    }

    /// The app's own view of its inspector (`inspector.url()`).
    fn inspector_open(&self) -> bool {
        let body = self.get("/inspector").expect("the app still serves");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["open"].as_bool().unwrap()
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    // Node's inspector keeps its connection open: stop at the announced length.
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            if len.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

fn port_9229_listens() -> bool {
    TcpStream::connect_timeout(
        &"127.0.0.1:9229".parse().unwrap(),
        Duration::from_millis(300),
    )
    .is_ok()
}

fn assert_9229_free() {
    assert!(
        !port_9229_listens(),
        "something else listens on 127.0.0.1:9229: SIGUSR1 tests need it free"
    );
}

/// `leakhound load` at the app for `secs`, in the background.
fn drive(node: &Node, secs: u32) -> Child {
    leakhound()
        .args(["load", "-c", "8", "-d", &format!("{secs}s")])
        .arg(format!("http://127.0.0.1:{}/", node.port))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn leakhound load")
}

/// `leakhound attach ARGS --json -` with a hard deadline.
fn attach(args: &[&str], limit: Duration) -> (Option<i32>, serde_json::Value, String, Duration) {
    let t0 = Instant::now();
    let mut child = leakhound()
        .arg("attach")
        .args(args)
        .args(["--json", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leakhound attach");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("leakhound attach did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = t0.elapsed();
    let stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (status.code(), json, stderr, took)
}

/// Watch a server under load with `--force-gc` for 30 s; then check the process was restored.
fn watch_under_load(leak_bytes: &str) -> (Option<i32>, serde_json::Value, String) {
    assert_9229_free();
    let node = Node::start(&[], &[("LEAK_BYTES", leak_bytes)], Stdio::null());
    assert!(!node.inspector_open());
    let mut load = drive(&node, 33);
    let (code, json, stderr, _) = attach(
        &[&node.pid(), "--force-gc", "-d", "30s"],
        Duration::from_secs(90),
    );
    let _ = load.wait();
    // Restored: the app still serves, and the inspector leakhound opened is closed again.
    assert!(node.get("/").is_some(), "the app stopped serving");
    assert!(!node.inspector_open(), "the app's inspector is still open");
    assert!(!port_9229_listens(), "127.0.0.1:9229 still listens");
    assert_eq!(json["opened_inspector"], true, "{stderr}");
    assert_eq!(json["method"], "forced-gc");
    assert!(json["samples"].as_array().unwrap().len() >= 6, "{json}");
    (code, json, stderr)
}

#[test]
fn attach_pid_finds_the_leak_of_a_few_hundred_bytes_per_request_in_30s() {
    let _s = serial();
    let (code, json, stderr) = watch_under_load("300");
    assert_eq!(json["verdict"], "leak", "{stderr}");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(json["bytes_per_hour"].as_f64().unwrap() > 0.0);
    let [lo, hi] = [0, 1].map(|i| json["ci_bytes_per_hour"][i].as_f64().unwrap());
    assert!(lo > 0.0 && lo <= hi, "{json}");
    assert!(json["mann_kendall_p"].as_f64().unwrap() < 0.01);
    assert!(json["heap_limit_bytes"].as_f64().unwrap() > 0.0);
    assert!(json["time_to_oom_s"].as_f64().unwrap() > 0.0);
    assert!(
        stderr.contains("inspector at 127.0.0.1:9229 closed"),
        "{stderr}"
    );
}

#[test]
fn alloc_sites_name_the_apps_line_that_keeps_memory() {
    let _s = serial();
    assert_9229_free();
    let node = Node::start(&[], &[("LEAK_BYTES", "300")], Stdio::null());
    let mut load = drive(&node, 24);
    // Eight samples: Mann–Kendall needs more than five to reach p < 0.01.
    let (code, json, stderr, _) = attach(
        &[
            &node.pid(),
            "--force-gc",
            "--alloc-sites",
            "-d",
            "21s",
            "--sample-every",
            "3s",
        ],
        Duration::from_secs(80),
    );
    let _ = load.wait();
    assert_eq!(json["verdict"], "leak", "{stderr}");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        json["alloc_sampling_interval"].as_u64().unwrap() > 0,
        "{json}"
    );
    let sites = json["alloc_survivors"].as_array().unwrap();
    let app: Vec<&str> = sites
        .iter()
        .take(3)
        .filter_map(|s| s["location"].as_str())
        .filter(|l| l.contains("attach-target.js"))
        .collect();
    assert!(
        !app.is_empty(),
        "no app line among the first three: {sites:#?}"
    );
    // The sampling profiler is stopped and the inspector closed again.
    assert!(node.get("/").is_some(), "the app stopped serving");
    assert!(!node.inspector_open(), "{stderr}");
}

#[test]
fn snapshot_suspects_are_signed_and_point_at_the_line_that_grows() {
    let _s = serial();
    assert_9229_free();
    let node = Node::start(&[], &[("LEAK_BYTES", "2000")], Stdio::null());
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().to_string_lossy().into_owned();
    let mut load = drive(&node, 15);
    let (_, json, stderr, _) = attach(
        &[
            &node.pid(),
            "--force-gc",
            "--snapshots",
            &snaps,
            "-d",
            "12s",
            "--sample-every",
            "2s",
        ],
        Duration::from_secs(80),
    );
    let _ = load.wait();
    let s = &json["suspects"][0];
    assert!(s.is_object(), "no suspects: {stderr}\n{json}");
    // As `run` fills them: the signature, the full path, and the app's lines.
    assert_eq!(s["signature"].as_str().unwrap_or("").len(), 16, "{s}");
    assert!(!s["full_path"].as_array().unwrap().is_empty(), "{s}");
    let grows = s["source"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["kind"] == "grows"))
        .unwrap_or_else(|| panic!("no grows line: {s}"));
    assert!(
        grows["location"]
            .as_str()
            .unwrap()
            .ends_with("attach-target.js:33"),
        "{s}"
    );
    assert!(node.get("/").is_some(), "the app stopped serving");
}

#[test]
fn attach_pid_says_no_leak_on_a_healthy_server() {
    let _s = serial();
    let (code, json, stderr) = watch_under_load("0");
    assert_eq!(json["verdict"], "no-leak", "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
    let reason = json["reason"].as_str().unwrap();
    assert!(reason.contains("less than the"), "{reason}");
}

#[test]
fn without_force_gc_the_gc_observer_finds_a_leak_and_is_removed() {
    let _s = serial();
    assert_9229_free();
    // A bounded cache it keeps replacing (old-generation garbage) makes V8 run major GCs by
    // itself, as a busy service does. The heap has room for 30 s of the leak at any rate this
    // machine serves (128 MiB did not: a fast run filled it and the app died).
    let node = Node::start(
        &["--max-old-space-size=384"],
        &[("LEAK_BYTES", "200"), ("CHURN", "20000")],
        Stdio::null(),
    );
    let mut load = drive(&node, 33);
    let (code, json, stderr, _) = attach(&[&node.pid(), "-d", "30s"], Duration::from_secs(90));
    let _ = load.wait();
    assert_eq!(json["method"], "gc-observer", "{stderr}");
    assert_eq!(json["verdict"], "leak", "{stderr}");
    assert_eq!(code, Some(1));
    assert!(json["gc"]["major_count"].as_u64().unwrap() >= 5, "{json}");
    assert!(json["floor"].as_array().unwrap().len() >= 5);
    // No forced GC: every sample is as the process had it.
    let samples = json["samples"].as_array().unwrap();
    assert!(samples.iter().all(|s| s["after_forced_gc"] == false));
    assert!(!node.inspector_open());
    assert!(!port_9229_listens());
}

#[test]
fn attach_to_an_open_inspector_leaves_it_open_and_serves_metrics() {
    let _s = serial();
    let mut node = Node::start(&["--inspect=127.0.0.1:0"], &[], Stdio::piped());
    // The banner names the port Node chose.
    let mut lines = BufReader::new(node.child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("Debugger listening on ")
                .map(|u| u.trim().to_string())
        })
        .expect("the inspector banner");
    // Keep draining stderr ("Debugger attached." ...) so Node never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    let addr = url
        .strip_prefix("ws://")
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    let inspect_port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let scraper = std::thread::spawn(move || {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Some(body) = http_get(metrics_port, "/metrics") {
                if body.contains("leakhound_live_set_floor_bytes{") {
                    return Some(body);
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    });
    let (code, json, stderr, _) = attach(
        &[
            "--inspect",
            &addr,
            "--force-gc",
            "-d",
            "6s",
            "--sample-every",
            "1s",
            "--metrics",
            &metrics,
        ],
        Duration::from_secs(60),
    );
    assert!(matches!(code, Some(0 | 1 | 3)), "{code:?} {stderr}");
    assert_eq!(json["opened_inspector"], false, "{stderr}");
    assert_eq!(json["pid"], node.child.id());
    assert_eq!(json["samples"].as_array().unwrap().len(), 7, "{json}");
    assert!(
        node.inspector_open(),
        "the inspector it found open was closed"
    );
    assert!(
        http_get(inspect_port, "/json/list").is_some_and(|b| b.contains("webSocketDebuggerUrl")),
        "the inspector no longer answers"
    );
    let body = scraper
        .join()
        .unwrap()
        .expect("the metrics endpoint was scraped");
    assert!(
        body.contains(&format!("pid=\"{}\"", node.child.id())) && body.ends_with("# EOF\n"),
        "{body}"
    );
    assert!(stderr.contains("the inspector stays open"), "{stderr}");
}

#[test]
fn a_non_loopback_inspector_is_refused_before_any_connection() {
    // 0.0.0.0 would reach this listener on Linux: it must see no connection at all.
    let l = TcpListener::bind("0.0.0.0:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    for addr in ["10.0.0.1:9229".to_string(), format!("0.0.0.0:{port}")] {
        let (code, json, stderr, took) = attach(&["--inspect", &addr], Duration::from_secs(10));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(json.is_null());
        assert!(stderr.contains("only loopback addresses"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
    assert!(
        matches!(l.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "leakhound connected to a non-loopback address"
    );
}

#[test]
fn no_inspector_after_sigusr1_is_exit_2_with_the_hint() {
    let _s = serial();
    assert_9229_free();
    // `--disable-sigusr1` where Node has it (22.14+), else the app's own SIGUSR1 handler:
    // either way SIGUSR1 opens no inspector.
    let disable = Command::new("node")
        .args(["--disable-sigusr1", "-e", "0"])
        .output()
        .is_ok_and(|o: Output| o.status.success());
    let node = if disable {
        Node::start(&["--disable-sigusr1"], &[], Stdio::null())
    } else {
        Node::start(&[], &[("HANDLE_SIGUSR1", "1")], Stdio::null())
    };
    let (code, json, stderr, took) = attach(&[&node.pid()], Duration::from_secs(30));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(json.is_null());
    assert!(
        stderr.contains("within 10s of SIGUSR1") && stderr.contains("--inspect"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(14), "{took:?}");
    assert!(node.get("/").is_some(), "the app stopped serving");
    assert!(!node.inspector_open());
}

#[test]
fn a_process_that_is_not_node_is_never_signalled() {
    // `sleep` does not handle SIGUSR1: the signal would kill it.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let (code, _, stderr, took) = attach(&[&sleeper.id().to_string()], Duration::from_secs(10));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a Node.js process"), "{stderr}");
    assert!(took < Duration::from_secs(3));
    assert!(sleeper.try_wait().unwrap().is_none(), "sleep was killed");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn ctrl_c_detaches_and_restores_the_process() {
    let _s = serial();
    assert_9229_free();
    let node = Node::start(&[], &[("LEAK_BYTES", "100")], Stdio::null());
    let mut child = leakhound()
        .args([
            "attach",
            &node.pid(),
            "-d",
            "60s",
            "--sample-every",
            "1s",
            "--json",
            "-",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    // Wait for the second sample (the observer is installed by then), then Ctrl-C.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        seen.push(line.clone());
        if line.contains("s  heap ") && seen.iter().filter(|l| l.contains("s  heap ")).count() == 2
        {
            break;
        }
    }
    assert!(node.inspector_open(), "{seen:?}");
    let status =
        common::interrupt_and_wait(&mut child, Duration::from_secs(15), "attach ignored Ctrl-C");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130), "{seen:?} {rest:?}");
    let json: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(json["verdict"], "interrupted");
    assert!(json["samples"].as_array().unwrap().len() >= 2);
    assert!(!node.inspector_open(), "{rest:?}");
    assert!(!port_9229_listens());
    assert!(node.get("/").is_some());
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let closed = free_port().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "required"),
        (
            vec!["1", "--inspect", "127.0.0.1:9229"],
            "cannot be used with",
        ),
        (vec!["4294967294"], "no process 4294967294"),
        (
            vec!["1", "-d", "5s", "--sample-every", "10s"],
            "longer than the watch",
        ),
        (
            vec!["1", "--metrics", "10.0.0.1:9464"],
            "not a loopback address",
        ),
        (vec!["--inspect", &closed], "no inspector answers"),
        (vec!["--inspect", "127.0.0.1"], "expected HOST:PORT"),
    ];
    for (args, want) in cases {
        let out = leakhound().arg("attach").args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {want} in {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_process_that_exits_mid_watch_is_judged_on_what_was_sampled() {
    let _s = serial();
    assert_9229_free();
    let mut node = Node::start(&[], &[], Stdio::null());
    let pid = node.pid();
    let mut child = leakhound()
        .args([
            "attach",
            &pid,
            "--force-gc",
            "-d",
            "30s",
            "--sample-every",
            "1s",
        ])
        .args(["--json", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut heap_lines = 0;
    for line in lines.by_ref().map_while(Result::ok) {
        if line.contains("s  heap ") {
            heap_lines += 1;
            if heap_lines == 3 {
                break;
            }
        }
    }
    // The process dies (as an out-of-memory crash would end it).
    kill_group(node.child.id());
    let _ = node.child.wait();
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "attach hangs on a dead process"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let json: serde_json::Value =
        serde_json::from_str(&reader.join().unwrap()).unwrap_or_else(|e| panic!("{e}: {rest:?}"));
    assert!(matches!(status.code(), Some(0 | 3)), "{status:?} {rest:?}");
    assert!(json["samples"].as_array().unwrap().len() >= 3);
    let notes = json["notes"].to_string();
    assert!(notes.contains("the watch ended after"), "{notes}");
    assert!(!port_9229_listens());
}
