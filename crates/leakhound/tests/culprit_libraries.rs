//! Known library leaks on their real packages (issue 13, "known library leaks"): each server in
//! `tests/servers/culprit/pkgs` leaks through a package the way services do, and `run
//! --snapshots` must name the package's pattern and the app line that uses the library (the
//! line the server's header says to change). An EventEmitter listener leak must carry Node's
//! own MaxListenersExceededWarning, caught from the target's stderr.
//!
//! The packages come from `npm ci --prefix crates/leakhound/tests/servers/culprit/pkgs`
//! (`.ci/run` does it); without them these tests fail saying so.

mod common;

use std::process::Stdio;

use common::{leakhound, repo_root, serial};
use serde_json::Value;

const PKGS: &str = "crates/leakhound/tests/servers/culprit/pkgs";

/// `file:<line>` of the first line of `file` containing `needle` (1-based).
fn line_of(file: &str, needle: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
    let n = text
        .lines()
        .position(|l| l.contains(needle) && !l.trim_start().starts_with("//"))
        .unwrap_or_else(|| panic!("{needle} not in {file}"));
    format!("{file}:{}", n + 1)
}

/// Run `file` under `run -c 4 --snapshots` for at most `budget`; the JSON report and the
/// output, for the assertion messages.
fn run(file: &str, budget: &str) -> (Value, String) {
    run_with(file, budget, true)
}

fn run_with(file: &str, budget: &str, snapshots: bool) -> (Value, String) {
    assert!(
        repo_root().join(PKGS).join("node_modules/express").is_dir(),
        "the culprit packages are not installed: npm ci --prefix {PKGS}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("run.json");
    let mut cmd = leakhound();
    cmd.current_dir(repo_root()).args(["run", "-c", "4"]);
    if snapshots {
        cmd.arg("--snapshots").arg(tmp.path().join("snaps"));
    }
    let out = cmd
        .arg("--json")
        .arg(&json)
        .args(["--max-duration", budget, "--", "node", file])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let ctx = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("no JSON ({e}): {ctx}"));
    (serde_json::from_str(&text).unwrap(), ctx)
}

/// The pattern `id` among the run's library patterns, with the app line it names.
fn pattern<'a>(r: &'a Value, id: &str, ctx: &str) -> &'a Value {
    assert_eq!(r["verdict"], "leak", "{ctx}");
    r["library_patterns"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == id))
        .unwrap_or_else(|| panic!("no `{id}` pattern: {:#}\n{ctx}", r["library_patterns"]))
}

/// The server `name` in `pkgs/` matches `id`, naming the line holding `needle`.
fn recognised(name: &str, id: &str, needles: &[&str], budget: &str) -> Value {
    let _lock = serial();
    let file = format!("{PKGS}/{name}");
    let (r, ctx) = run(&file, budget);
    let p = pattern(&r, id, &ctx).clone();
    let wanted: Vec<String> = needles.iter().map(|n| line_of(&file, n)).collect();
    let at = p["app_line"]["location"].as_str().unwrap_or("-");
    assert!(
        wanted.iter().any(|w| w == at),
        "app line {at}, wanted one of {wanted:?}: {p:#}"
    );
    assert!(p["fix"].as_str().is_some_and(|f| !f.is_empty()), "{p:#}");
    p
}

#[test]
fn express_session_memory_store() {
    let p = recognised(
        "express-session-store.js",
        "express-session-memory-store",
        &["app.use(session("],
        // Under the snapshots' pauses on a busy 2-core machine this serves 300–600
        // requests/s and its growth reads as slowing for a while (a CI rehearsal ended
        // inconclusive at 20 s); the run keeps sampling until it stops slowing.
        "45s",
    );
    let ev = p["evidence"].to_string();
    assert!(
        ev.contains("MemoryStore") || ev.contains("memory.js"),
        "{p:#}"
    );
}

#[test]
fn prom_client_raw_path_labels_name_the_metric_and_the_label() {
    let p = recognised(
        "prom-raw-path.js",
        "prom-client-unbounded-labels",
        &["httpRequests.inc(", "httpDuration.observe("],
        "20s",
    );
    let ev: Vec<&str> = p["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        ev.iter().any(|e| e.starts_with("metric `http_request")),
        "{ev:#?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.starts_with("label `path` has unbounded values")),
        "{ev:#?}"
    );
}

#[test]
fn winston_logger_per_request() {
    // A logger holds ~9 KiB: a short budget keeps the snapshots small.
    recognised(
        "winston-per-request.js",
        "winston-logger-per-request",
        &["winston.createLogger("],
        "15s",
    );
}

/// The first `grows` line of the first suspect (with snapshots), else the culprit's line.
fn first_grows(r: &Value) -> String {
    let from_suspect = r["suspects"].as_array().and_then(|s| {
        s.first()?["source"]
            .as_array()?
            .iter()
            .find(|l| l["kind"] == "grows")
            .and_then(|l| l["location"].as_str())
    });
    from_suspect
        .or_else(|| r["culprit"]["line"]["location"].as_str())
        .unwrap_or("-")
        .to_string()
}

#[test]
fn a_package_that_allocated_under_the_handler_names_the_apps_call_into_it() {
    // Logger objects reach the process's listener lists (`process > _events >
    // unhandledRejection`), a path that names nothing the app grows; the heaviest surviving
    // stack runs `handle` → `createLogger` in winston: the app's call is the line, with and
    // without snapshots.
    let _lock = serial();
    let file = format!("{PKGS}/winston-per-request.js");
    let want = line_of(&file, "winston.createLogger(");
    for snapshots in [false, true] {
        let (r, ctx) = run_with(&file, "15s", snapshots);
        assert_eq!(r["verdict"], "leak", "{ctx}");
        assert_eq!(first_grows(&r), want, "snapshots {snapshots}: {ctx}");
        assert_eq!(r["culprit"]["line"]["location"], want.as_str(), "{ctx}");
    }
}

#[test]
fn axios_interceptor_added_in_the_handler() {
    recognised(
        "axios-interceptor.js",
        "http-client-interceptors-per-request",
        &["axios.interceptors.request.use("],
        "20s",
    );
}

#[test]
fn dataloader_at_module_scope() {
    recognised(
        "dataloader-module.js",
        "dataloader-module-scope",
        &["new DataLoader("],
        "20s",
    );
}

#[test]
fn node_cache_without_ttl() {
    recognised(
        "node-cache-no-ttl.js",
        "node-cache-no-ttl",
        &["new NodeCache(", "cache.set("],
        // As for express-session: room to see the growth stop slowing on a busy machine.
        "45s",
    );
}

#[test]
fn an_emitter_leak_carries_nodes_max_listeners_warning() {
    let _lock = serial();
    let file = "crates/leakhound/tests/servers/culprit/emitter-listeners.js";
    let (r, ctx) = run(file, "20s");
    let p = pattern(&r, "event-emitter-listeners", &ctx);
    assert_eq!(
        p["app_line"]["location"],
        line_of(file, "bus.on('config:reload'").as_str(),
        "{p:#}"
    );
    let ev: Vec<&str> = p["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        ev.iter().any(|e| e.starts_with("stderr: ")
            && e.contains("MaxListenersExceededWarning")
            && e.contains("config:reload listeners added to [Bus]")),
        "{ev:#?}"
    );
    assert!(
        ev.contains(&"Node warned: 11 `config:reload` listeners on a `Bus` emitter"),
        "{ev:#?}"
    );
    // The text report shows it too.
    assert!(
        ctx.contains("known library leak: EventEmitter listeners growing"),
        "{ctx}"
    );
}

#[test]
fn without_snapshots_the_surviving_allocations_name_the_pattern_and_the_line() {
    let _lock = serial();
    let file = format!("{PKGS}/axios-interceptor.js");
    let (r, ctx) = run_with(&file, "20s", false);
    assert!(
        r["suspects"].as_array().is_none_or(|s| s.is_empty()),
        "{ctx}"
    );
    let p = pattern(&r, "http-client-interceptors-per-request", &ctx);
    assert_eq!(
        p["app_line"]["location"],
        line_of(&file, "axios.interceptors.request.use(").as_str(),
        "{p:#}"
    );
    let ev = p["evidence"].to_string();
    assert!(
        ev.contains("node_modules/axios/") && ev.contains("called from handle"),
        "{p:#}"
    );
}
