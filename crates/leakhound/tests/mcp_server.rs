//! `leakhound mcp` driven by a scripted MCP client over stdio (JSON-RPC, one message a line):
//! initialize, the initialized notification, tools/list, tools/call `heap_summary` on a
//! fixture snapshot (with and without `--redact-strings`), and tools/call `run` on the leaky
//! example with a progress token.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{kill_group, leakhound, repo_root, serial};

/// A running `leakhound mcp` and the messages it sent.
struct Client {
    child: Child,
    /// Closed on drop: the server then shuts down and stops the runs it started.
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    /// Notifications seen while waiting for responses.
    notes: Vec<Value>,
}

impl Client {
    fn start(args: &[&str]) -> Client {
        let mut child = leakhound()
            .arg("mcp")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin: Some(stdin),
            rx,
            notes: Vec::new(),
        };
        let init = c.request(
            1,
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "leakhound-test", "version": "1"}
            }),
            Duration::from_secs(20),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "leakhound", "{init}");
        assert!(
            init["result"]["capabilities"]["tools"].is_object(),
            "{init}"
        );
        c.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        c
    }

    fn send(&mut self, v: Value) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{v}").unwrap();
        stdin.flush().unwrap();
    }

    /// Send a request and wait for the response with its id.
    fn request(&mut self, id: u64, method: &str, params: Value, limit: Duration) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let start = Instant::now();
        loop {
            let left = limit
                .checked_sub(start.elapsed())
                .unwrap_or_else(|| panic!("no answer to {method} within {limit:?}"));
            let v = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method} within {limit:?}"));
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
            self.notes.push(v);
        }
    }

    fn call(&mut self, id: u64, tool: &str, args: Value, limit: Duration) -> Value {
        self.request(
            id,
            "tools/call",
            json!({"name": tool, "arguments": args, "_meta": {"progressToken": format!("p{id}")}}),
            limit,
        )
    }
}

impl Drop for Client {
    /// End of input first (the server stops its runs with SIGTERM, so their targets end
    /// too); the process group is killed only if it is still there 10 s later.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

fn fixture() -> String {
    repo_root()
        .join("tests/fixtures/heapsnapshot/user-data.heapsnapshot")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn tools_are_listed_with_json_schema_inputs() {
    let mut c = Client::start(&[]);
    let list = c.request(2, "tools/list", json!({}), Duration::from_secs(20));
    let tools = list["result"]["tools"].as_array().expect("tools");
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alloc",
            "attach",
            "compare",
            "gc",
            "heap_leaks",
            "heap_summary",
            "run"
        ]
    );
    let run = tools.iter().find(|t| t["name"] == "run").unwrap();
    assert_eq!(run["inputSchema"]["type"], "object", "{run}");
    assert_eq!(run["inputSchema"]["required"], json!(["command"]), "{run}");
    assert!(
        run["inputSchema"]["properties"]["headers"].is_object(),
        "{run}"
    );
    let leaks = tools.iter().find(|t| t["name"] == "heap_leaks").unwrap();
    assert!(
        leaks["inputSchema"]["properties"]["files"].is_object(),
        "{leaks}"
    );
}

#[test]
fn heap_summary_returns_the_document_and_redacts_snapshot_strings_on_request() {
    let mut plain = Client::start(&[]);
    let r = plain.call(
        2,
        "heap_summary",
        json!({"file": fixture()}),
        Duration::from_secs(30),
    );
    let result = &r["result"];
    assert_eq!(result["isError"], false, "{r}");
    let doc = &result["structuredContent"];
    assert_eq!(doc["schema"], "leakhound.heap.summary/v1", "{r}");
    assert_eq!(doc["total_bytes"], 204_160, "{r}");
    assert!(doc.to_string().contains("alice@example.com"), "{doc}");
    let texts: Vec<&str> = result["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert!(texts[0].starts_with("leakhound exited 0"), "{texts:?}");

    let mut redacted = Client::start(&["--redact-strings"]);
    let r = redacted.call(
        2,
        "heap_summary",
        json!({"file": fixture()}),
        Duration::from_secs(30),
    );
    let all = r.to_string();
    assert!(!all.contains("alice@example.com"), "{all}");
    assert!(all.contains("[redacted] (Session)"), "{all}");
    assert_eq!(r["result"]["structuredContent"]["total_bytes"], 204_160);

    // A usage error (a missing file) is a tool error with leakhound's line.
    let r = redacted.call(
        3,
        "heap_summary",
        json!({"file": "/no/such.heapsnapshot"}),
        Duration::from_secs(30),
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    let line = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        line.starts_with("leakhound exited 2") && line.contains("/no/such.heapsnapshot"),
        "{line}"
    );
}

/// The file tools return their documents with the exit code's meaning: `gc` on a trace that
/// ran out of memory is a leak (exit 1) and still a successful call; `alloc` names the sites.
#[test]
fn gc_and_alloc_return_their_documents_and_a_leak_is_not_an_error() {
    let mut c = Client::start(&[]);
    let root = repo_root().join("tests/fixtures");
    let trace = root.join("gc-traces/node20-leak-oom.log");
    let r = c.call(
        2,
        "gc",
        json!({"file": trace.to_string_lossy()}),
        Duration::from_secs(30),
    );
    assert_eq!(r["result"]["isError"], false, "{r}");
    assert_eq!(
        r["result"]["structuredContent"]["schema"], "leakhound.gc/v1",
        "{r}"
    );
    assert_eq!(r["result"]["structuredContent"]["verdict"], "leak", "{r}");
    assert_eq!(
        r["result"]["content"][0]["text"],
        "leakhound exited 1 (leak)"
    );

    let profile = root.join("heapprofile/node20-heap-prof.heapprofile");
    let r = c.call(
        3,
        "alloc",
        json!({"file": profile.to_string_lossy(), "top": 3}),
        Duration::from_secs(30),
    );
    assert_eq!(r["result"]["isError"], false, "{r}");
    let doc = &r["result"]["structuredContent"];
    assert_eq!(doc["schema"], "leakhound.alloc/v1", "{r}");
    let sites = doc["top_self"].as_array().expect("top_self");
    assert!(
        !sites.is_empty() && sites.len() <= 3,
        "--top 3 was passed: {doc}"
    );
}

#[test]
fn run_on_the_leaky_example_reports_progress_and_a_leak() {
    let _s = serial();
    let mut c = Client::start(&[]);
    let leaky = repo_root()
        .join("examples/leaky-server.js")
        .to_string_lossy()
        .into_owned();
    let r = c.call(
        2,
        "run",
        json!({"command": ["node", leaky], "max_duration": "20s"}),
        Duration::from_secs(120),
    );
    let result = &r["result"];
    assert_eq!(result["isError"], false, "{r}");
    let doc = &result["structuredContent"];
    assert_eq!(doc["schema"], "leakhound.run/v1", "{r}");
    assert_eq!(doc["verdict"], "leak", "{r}");
    assert_eq!(
        result["content"][0]["text"], "leakhound exited 1 (leak)",
        "{r}"
    );
    let progress: Vec<&Value> = c
        .notes
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .collect();
    assert!(
        !progress.is_empty(),
        "no progress during a run: {:?}",
        c.notes
    );
    assert!(progress
        .iter()
        .all(|p| p["params"]["progressToken"] == "p2"));
    let values: Vec<f64> = progress
        .iter()
        .map(|p| p["params"]["progress"].as_f64().unwrap())
        .collect();
    assert!(
        values.windows(2).all(|w| w[1] > w[0]),
        "progress must increase: {values:?}"
    );
    assert!(
        progress.iter().any(|p| p["params"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(" load ")),
        "the messages are leakhound's status lines: {progress:?}"
    );
    // `run` takes a command only: an empty one is refused before anything starts.
    let r = c.call(3, "run", json!({"command": []}), Duration::from_secs(20));
    assert!(r.get("error").is_some(), "{r}");
}

/// The pids whose command line contains `marker`.
fn pids_with(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if cmd.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// A cancelled `run` (notifications/cancelled) stops leakhound, which ends its target, at
/// once: the target here never listens, so the run would otherwise wait out its 30 s start
/// timeout.
#[test]
fn a_cancelled_run_ends_leakhound_and_its_target() {
    let _s = serial();
    let mut c = Client::start(&[]);
    let marker = format!("lh-mcp-cancel-{}", std::process::id());
    c.send(json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {
            "name": "run",
            "arguments": {"command": ["node", "-e", "setInterval(() => {}, 1000)", marker]},
            "_meta": {"progressToken": "p2"}
        }
    }));
    // leakhound and the node it started both carry the marker on their command lines.
    let start = Instant::now();
    while pids_with(&marker).len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "leakhound and its target did not start: {:?}",
            pids_with(&marker)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    c.send(json!({
        "jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2, "reason": "test"}
    }));
    let t0 = Instant::now();
    while !pids_with(&marker).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "still running 15 s after the cancel: {:?}",
            pids_with(&marker)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
