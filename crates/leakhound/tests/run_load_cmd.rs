//! `run --load-cmd` (issue 11): the user's own load drives the target; the verdict is bytes per
//! unit of work when the command prints `leakhound:count N`, bytes per second otherwise; a
//! command that fails at once is a failed run; no process of the command outlives the run.
mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{leakhound, repo_root, run_json, serial};

fn path(rel: &str) -> String {
    repo_root().join(rel).to_string_lossy().into_owned()
}

/// The test driver, writing its pid (and the pid of a `sleep` it leaves in its process group)
/// to `pidfile`, so the test can check the whole group went.
fn driver_cmd(pidfile: &Path, counts: bool) -> String {
    format!(
        "sleep 300 & echo $! >> {pf}; {env}PIDFILE={pf} node {drv}",
        pf = pidfile.display(),
        env = if counts { "" } else { "NO_COUNT=1 " },
        drv = path("crates/leakhound/tests/servers/load-driver.js")
    )
}

/// Every pid in `pidfile` is gone (or a zombie waiting to be reaped by init): nothing of the
/// command is left running. Waits a little for the kernel to tear down, never more than 3 s.
fn assert_gone(pidfile: &Path, text: &str) {
    let pids: Vec<u32> = std::fs::read_to_string(pidfile)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(
        pids.len(),
        2,
        "the driver and its sleep wrote their pids: {text}"
    );
    let running = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            let state = s.rsplit_once(')').map_or("", |(_, r)| r.trim());
            !state.starts_with('Z')
        })
    };
    let until = Instant::now() + Duration::from_secs(3);
    while pids.iter().any(running) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<&u32> = pids.iter().filter(|p| running(p)).collect();
    for p in &left {
        // Do not leave them behind for the next test.
        unsafe { libc::kill(**p as i32, libc::SIGKILL) };
    }
    assert!(
        left.is_empty(),
        "still running after the run: {left:?}\n{text}"
    );
}

/// A run with the default sampling (`--sample-every 2s`): the time axis must decide with it.
fn run_with(cmd: &str, server: &str) -> (Option<i32>, serde_json::Value, String) {
    run_env(cmd, server, &[])
}

fn run_env(
    cmd: &str,
    server: &str,
    envs: &[(&str, &str)],
) -> (Option<i32>, serde_json::Value, String) {
    run_json(
        &[
            "--max-duration",
            "50s",
            "--load-cmd",
            cmd,
            "--",
            "node",
            &path(server),
        ],
        envs,
    )
}

#[test]
fn a_counting_driver_against_a_leaking_server_is_a_leak_per_unit_of_work() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pids");
    let (code, v, text) = run_with(&driver_cmd(&pf, true), "examples/leaky-server.js");
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["driver"], "work", "{text}");
    assert_eq!(v["unit"], "unit", "{text}");
    assert_eq!(v["fit"]["x"], "work", "{text}");
    // Each request keeps its whole response (~1 KB with the map's entry).
    let bpu = v["retained_bytes_per_unit"].as_f64().unwrap();
    assert!((300.0..5000.0).contains(&bpu), "{bpu} B/unit: {text}");
    assert!(text.contains("units of work of the load command"), "{text}");
    assert_gone(&pf, &text);
}

#[test]
fn a_counting_driver_against_a_healthy_server_is_no_leak() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pids");
    let (code, v, text) = run_with(&driver_cmd(&pf, true), "examples/fixed-server.js");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    assert_eq!(v["fit"]["x"], "work", "{text}");
    assert_gone(&pf, &text);
}

#[test]
fn a_driver_without_counts_is_judged_on_time() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pids");
    let (code, v, text) = run_with(&driver_cmd(&pf, false), "examples/leaky-server.js");
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["driver"], "time", "{text}");
    assert_eq!(v["unit"], "second", "{text}");
    assert_eq!(v["fit"]["x"], "seconds", "{text}");
    assert!(
        v["retained_bytes_per_unit"].as_f64().unwrap() > 100_000.0,
        "{text}"
    );
    assert_gone(&pf, &text);
}

#[test]
fn a_load_command_that_fails_at_once_is_a_failed_run_with_its_output() {
    let _s = serial();
    let (code, v, text) = run_with(
        "echo connecting to $URL; echo 'no such scenario' >&2; exit 3",
        "examples/fixed-server.js",
    );
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(v["verdict"], "target-failed", "{text}");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains("exit status: 3"), "{reason}");
    assert!(reason.contains("no such scenario"), "{reason}");
    // The environment it was given.
    assert!(
        reason.contains("connecting to http://127.0.0.1:"),
        "{reason}"
    );
}

#[test]
fn ctrl_c_ends_the_load_command_with_its_group() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pids");
    let mut child = leakhound()
        .args(["run", "--sample-every", "500ms", "--max-duration", "40s"])
        .args(["--load-cmd", &driver_cmd(&pf, true), "--", "node"])
        .arg(path("examples/fixed-server.js"))
        .current_dir(repo_root())
        .env_remove("NODE_OPTIONS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Both pids written: the command runs.
    let until = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&pf).map_or(0, |s| s.lines().count()) < 2
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_gone(&pf, "after Ctrl-C");
}

#[test]
fn the_load_command_does_not_mix_with_the_built_in_load() {
    let out = leakhound()
        .args(["run", "--load-cmd", "true", "-c", "4", "--", "node", "x.js"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--load-cmd") && err.contains("cannot be used with"),
        "{err}"
    );
}

#[test]
fn a_target_that_dies_under_the_load_command_ends_it_too() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pids");
    let (code, v, text) = run_with(
        &driver_cmd(&pf, true),
        "crates/leakhound/tests/servers/crashes-under-load.js",
    );
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(v["verdict"], "target-failed", "{text}");
    assert_gone(&pf, &text);
}

fn workload(module: &str) -> (Option<i32>, serde_json::Value, String) {
    workload_with(module, &[], &[])
}

/// `run --workload MODULE [extra...]` sampled every 500 ms, with `envs` for node.
fn workload_with(
    module: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (Option<i32>, serde_json::Value, String) {
    let file = path(&format!("crates/leakhound/tests/workloads/{module}"));
    let mut args = vec![
        "--sample-every",
        "500ms",
        "--max-duration",
        "50s",
        "--workload",
        &file,
    ];
    args.extend_from_slice(extra);
    run_json(&args, envs)
}

#[test]
fn a_workload_that_keeps_memory_leaks_per_iteration() {
    let _s = serial();
    let (code, v, text) = workload("leaky.mjs");
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["driver"], "iterations", "{text}");
    assert_eq!(v["unit"], "iteration", "{text}");
    assert_eq!(v["fit"]["x"], "iterations", "{text}");
    // An object and a short string per call.
    let bpi = v["retained_bytes_per_unit"].as_f64().unwrap();
    assert!((40.0..400.0).contains(&bpi), "{bpi} B/iteration: {text}");
}

#[test]
fn a_workload_that_keeps_nothing_is_no_leak() {
    let _s = serial();
    let (code, v, text) = workload("healthy.cjs");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    assert_eq!(v["fit"]["x"], "iterations", "{text}");
}

#[test]
fn a_workload_whose_default_export_is_not_a_function_is_refused() {
    let out = leakhound()
        .args(["run", "--workload"])
        .arg(path("crates/leakhound/tests/workloads/not-a-function.mjs"))
        .env_remove("NODE_OPTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the default export is not a function"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_cluster_driven_by_a_load_command_is_a_leak_in_its_workers() {
    let _s = serial();
    // Only the workers serve (and keep ~0.5 KB a request); the primary stays flat. No counts:
    // judged on time.
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pids");
    let (code, v, text) = run_env(
        &driver_cmd(&pf, false),
        "crates/leakhound/tests/servers/processes/cluster.js",
        &[("LEAK", "1")],
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["driver"], "time", "{text}");
    let procs = v["processes"].as_array().unwrap();
    let role =
        |r: &str| -> Vec<&serde_json::Value> { procs.iter().filter(|p| p["role"] == r).collect() };
    let (primary, workers) = (role("primary"), role("worker"));
    assert_eq!(primary.len(), 1, "{:#}", v["processes"]);
    // A leaking worker can run out of its 128 MB before the run ends (at ~0.5 KB a request the
    // cluster loop's wait for 8 rounds can get there on a fast machine): the primary forks a
    // replacement, listed too.
    let ran_out = workers
        .iter()
        .filter(|w| {
            w["exit"]
                .as_str()
                .is_some_and(|e| e.starts_with("ran out of memory"))
        })
        .count();
    assert_eq!(workers.len(), 2 + ran_out, "{:#}", v["processes"]);
    assert_ne!(primary[0]["verdict"], "leak", "{:#}", v["processes"]);
    let leaking: Vec<&str> = workers
        .iter()
        .filter(|w| w["verdict"] == "leak")
        .map(|w| w["label"].as_str().unwrap())
        .collect();
    assert!(!leaking.is_empty(), "{text}");
    // The top level describes a leaking worker, on the run's axis (not its own request count).
    let pids: Vec<&serde_json::Value> = workers.iter().map(|w| &w["pid"]).collect();
    assert!(pids.contains(&&v["target_pid"]), "{}", v["target_pid"]);
    assert!(text.contains(leaking[0]), "{text}");
    assert!(!text.contains("its own HTTP server counted"), "{text}");
    // Each process's slope is per second too, in the JSON and in the table.
    for w in workers.iter().filter(|w| w["verdict"] == "leak") {
        assert_eq!(w["unit"], "second", "{w:#}");
        assert_eq!(w["driver"], "time", "{w:#}");
        assert!(
            w["retained_bytes_per_unit"].as_f64().unwrap() > 0.0,
            "{w:#}"
        );
    }
    let row = text
        .lines()
        .find(|l| l.contains(leaking[0]) && l.contains("heap "))
        .unwrap_or_else(|| panic!("no table row for {}: {text}", leaking[0]));
    assert!(row.contains("/second") && !row.contains("request"), "{row}");
    assert_gone(&pf, &text);
}

#[test]
fn overlapping_calls_are_counted_once_each() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let inflight = dir.path().join("inflight");
    let env = [("INFLIGHT_FILE", inflight.to_str().unwrap())];
    let (code, v, text) = workload_with("overlapping-leaky.mjs", &["--concurrency", "4"], &env);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["fit"]["x"], "iterations", "{text}");
    // Four calls in flight, never more.
    assert_eq!(std::fs::read_to_string(&inflight).unwrap(), "4", "{text}");
    // Each call keeps ~450 B (node itself measures 447 B a call after forced GCs: `repeat`
    // builds its string as a rope): counting a call twice (or one loop of four) would halve
    // (or quadruple) the figure.
    let bpi = v["retained_bytes_per_unit"].as_f64().unwrap();
    assert!((300.0..700.0).contains(&bpi), "{bpi} B/iteration: {text}");
    let xs: Vec<u64> = v["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .collect();
    assert!(xs.windows(2).all(|w| w[0] <= w[1]), "{xs:?}");
    assert!(*xs.last().unwrap() > 1000, "{xs:?}");

    let _ = std::fs::remove_file(&inflight);
    let (code, v, text) = workload_with("overlapping-healthy.cjs", &["--concurrency", "4"], &env);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    assert_eq!(std::fs::read_to_string(&inflight).unwrap(), "4", "{text}");
}

#[test]
fn node_flags_after_the_double_dash_reach_the_workload_node() {
    let _s = serial();
    let (code, v, text) = workload_with("healthy.cjs", &["--", "--max-old-space-size=64"], &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    // V8's limit is the old space plus the young generation: 176 MiB with leakhound's default
    // 128 MiB, well under 128 MiB with the user's 64.
    let limit = v["heap_limit_bytes"].as_f64().unwrap() / 1048576.0;
    assert!((64.0..128.0).contains(&limit), "{limit} MiB: {text}");
}
