//! `leakhound run` on services of more than one Node process (issue 12): every process that
//! opens an inspector is followed and judged on its own. A cluster whose workers leak is a
//! leak naming the workers; a healthy cluster is not; `npm start` (npm is a wrapper, the
//! server it starts is judged), a child forked by a launcher (`child`, the launcher a
//! `wrapper`) and an ES module with top-level await are found to leak; a worker that runs out
//! of memory and is restarted by its primary is the leak's evidence, its exit line naming the
//! new worker even when that one is slow to start, and one that is not restarted ends the run
//! promptly; RSS that grows while the heaps stay flat is an `rss` leak.
//!
//! Allocation sampling runs in every serving process (each worker's survivors name the
//! leaking function). The fixtures are in `tests/servers/processes`: `handler.js` keeps a ~0.5 KB record per
//! request with `LEAK=1` (the default) and drops it with `LEAK=0`.

mod common;

use std::path::{Path, PathBuf};

use common::serial;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/processes")
}

/// `leakhound run --json … -- COMMAND` in the fixture directory: exit code, JSON, output.
fn run(args: &[&str], envs: &[(&str, &str)], command: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["--max-duration", "40s"];
    all.extend_from_slice(args);
    all.push("--");
    all.extend_from_slice(command);
    common::run_json_in(&dir(), &all, envs)
}

fn processes(v: &Value) -> Vec<Value> {
    v["processes"].as_array().cloned().unwrap_or_default()
}

fn with_role(v: &Value, role: &str) -> Vec<Value> {
    processes(v)
        .into_iter()
        .filter(|p| p["role"] == role)
        .collect()
}

/// The worker that died before leakhound followed it, in a one-worker cluster that forked a
/// replacement: its pid as its primary printed it (`pid_in` reads the text after "| worker "
/// in the echoed output), listed as a worker with no samples and an `exit` that starts with
/// `exit_starts`, told in the text; its replacement followed from the baseline on.
fn dead_first_and_replaced(
    v: &Value,
    text: &str,
    exit_starts: &str,
    pid_in: impl Fn(&str) -> Option<u64>,
) -> Value {
    let dead_pid = text
        .lines()
        .find_map(|l| pid_in(l.split("| worker ").nth(1)?))
        .unwrap_or_else(|| panic!("no exit line from the primary:\n{text}"));
    let dead = processes(v)
        .into_iter()
        .find(|p| p["pid"] == dead_pid)
        .unwrap_or_else(|| panic!("{dead_pid} not reported: {:#}", v["processes"]));
    assert_eq!(dead["role"], "worker", "{dead:#}");
    assert!(dead["samples"].as_array().unwrap().is_empty(), "{dead:#}");
    let exit = dead["exit"].as_str().unwrap();
    assert!(exit.starts_with(exit_starts), "{exit}\n{text}");
    let label = dead["label"].as_str().unwrap();
    assert!(text.contains(&format!("{label} {exit}")), "{text}");
    let new_pid: u64 = exit.rsplit(' ').next().unwrap().parse().unwrap();
    let workers = with_role(v, "worker");
    let new = workers
        .iter()
        .find(|w| w["pid"] == new_pid)
        .unwrap_or_else(|| panic!("{new_pid} not followed: {:#}", v["processes"]));
    assert!(new["samples"].as_array().unwrap().len() >= 2, "{new:#}");
    assert_eq!(new["exit"], Value::Null, "{new:#}");
    assert_eq!(workers.len(), 2, "{:#}", v["processes"]);
    dead
}

/// Every process the run followed is gone once it ended.
fn all_gone(v: &Value) {
    for p in processes(v) {
        let pid = p["pid"].as_i64().unwrap() as i32;
        // SAFETY: signal 0 only probes.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        assert!(!alive, "pid {pid} outlived the run");
    }
}

#[test]
fn a_cluster_whose_workers_leak_is_a_leak_naming_the_workers() {
    let _s = serial();
    let (code, v, text) = run(&[], &[("LEAK", "1")], &["node", "cluster.js"]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["leak_kind"], "js-heap", "{text}");
    let primary = with_role(&v, "primary");
    let workers = with_role(&v, "worker");
    assert_eq!(primary.len(), 1, "{:#}", v["processes"]);
    assert_eq!(workers.len(), 2, "{:#}", v["processes"]);
    let mut leaking = Vec::new();
    for w in &workers {
        assert_eq!(w["serving"], true, "{w:#}");
        assert!(w["samples"].as_array().unwrap().len() >= 6, "{w:#}");
        if w["verdict"] == "leak" {
            leaking.push(w["label"].as_str().unwrap().to_string());
            // ~0.5 KB kept per request the worker served itself.
            let bpr = w["retained_bytes_per_request"].as_f64().unwrap();
            assert!((300.0..2000.0).contains(&bpr), "{bpr} {w:#}");
            // Allocation sampling ran in every worker: each names the leaking function.
            let top = &w["alloc_survivors"][0];
            assert_eq!(top["function"], "rememberRequest", "{w:#}");
            assert!(
                top["location"].as_str().unwrap().starts_with("handler.js:"),
                "{top:#}"
            );
        }
    }
    assert!(!leaking.is_empty(), "{text}");
    // The verdict names the leaking workers ("worker 1 of 2, pid N").
    for l in &leaking {
        assert!(l.starts_with("worker ") && l.contains(" of 2, pid "), "{l}");
        assert!(text.contains(l.as_str()), "{l} not in:\n{text}");
    }
    // The top level describes a leaking worker, regressed on the requests it served.
    let pids: Vec<&Value> = workers.iter().map(|w| &w["pid"]).collect();
    assert!(pids.contains(&&v["target_pid"]), "{}", v["target_pid"]);
    assert!(
        text.contains("regressed on the requests its own HTTP server counted"),
        "{text}"
    );
    // The run's own request count stays the run's, the sum over the workers and more.
    let total = v["requests"].as_u64().unwrap();
    let top_samples = v["samples"].as_array().unwrap();
    let top_last = top_samples.last().unwrap()["requests"].as_u64().unwrap();
    assert!(top_last < total, "{top_last} {total}");
    assert_eq!(primary[0]["serving"], true);
    all_gone(&v);
}

#[test]
fn a_healthy_cluster_is_not_a_leak() {
    let _s = serial();
    let (code, v, text) = run(
        &["--no-alloc-sites"],
        &[("LEAK", "0")],
        &["node", "cluster.js"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    let workers = with_role(&v, "worker");
    assert_eq!(workers.len(), 2, "{:#}", v["processes"]);
    for w in &workers {
        assert_ne!(w["verdict"], "leak", "{w:#}");
    }
    assert!(!text.contains("leaking:"), "{text}");
    all_gone(&v);
}

#[test]
fn npm_start_is_a_wrapper_and_the_server_it_starts_leaks() {
    let _s = serial();
    let (code, v, text) = run(&["--no-alloc-sites"], &[("LEAK", "1")], &["npm", "start"]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    let wrappers = with_role(&v, "wrapper");
    assert_eq!(wrappers.len(), 1, "{:#}", v["processes"]);
    let npm = &wrappers[0];
    assert_eq!(npm["serving"], false, "{npm:#}");
    let cmd = npm["command"].to_string();
    assert!(cmd.contains("npm"), "{cmd}");
    let serving: Vec<Value> = processes(&v)
        .into_iter()
        .filter(|p| p["serving"] == true)
        .collect();
    assert_eq!(serving.len(), 1, "{:#}", v["processes"]);
    assert_eq!(serving[0]["verdict"], "leak", "{:#}", serving[0]);
    assert_eq!(v["target_pid"], serving[0]["pid"]);
    assert!(serving[0]["command"].to_string().contains("server.js"));
    all_gone(&v);
}

#[test]
fn an_es_module_with_top_level_await_is_found_to_leak() {
    let _s = serial();
    let (code, v, text) = run(&["--no-alloc-sites"], &[], &["node", "esm.mjs"]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    let bpr = v["retained_bytes_per_request"].as_f64().unwrap();
    assert!((300.0..2000.0).contains(&bpr), "{bpr}");
    let procs = processes(&v);
    assert_eq!(procs.len(), 1, "{:#}", v["processes"]);
    assert_eq!(procs[0]["role"], "primary");
    all_gone(&v);
}

/// The run of `cluster.js` with workers that leak 50 KB per request in a 32 MiB heap (a
/// worker dies within the warm-up) and `envs` for the primary's restart: a leak, found by the
/// out-of-memory death; the dead worker's exit line.
fn worker_oom_run(envs: &[(&str, &str)]) -> (Value, String, String) {
    let mut all = vec![("LEAK", "1"), ("PAD", "50000")];
    all.extend_from_slice(envs);
    let (code, v, text) = run(
        &["--heap-mb", "32", "--no-alloc-sites"],
        &all,
        &["node", "cluster.js"],
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["oom"], true, "{text}");
    let dead: Vec<Value> = with_role(&v, "worker")
        .into_iter()
        .filter(|w| w["exit"].is_string())
        .collect();
    assert!(!dead.is_empty(), "{:#}", v["processes"]);
    let exit = dead[0]["exit"].as_str().unwrap().to_string();
    assert!(text.contains(&exit), "{text}");
    all_gone(&v);
    (v, text, exit)
}

/// The exit line names the new worker, and that one is followed: forked after the death, not
/// the other original worker (which had a baseline sample).
fn assert_restarted(v: &Value, text: &str, exit: &str) {
    assert!(
        exit.starts_with("ran out of memory; restarted as pid "),
        "{exit}\n{text}"
    );
    let new_pid: u64 = exit.rsplit(' ').next().unwrap().parse().unwrap();
    let new = processes(v)
        .into_iter()
        .find(|p| p["pid"] == new_pid)
        .unwrap_or_else(|| panic!("{new_pid} not followed: {:#}", v["processes"]));
    assert_eq!(new["role"], "worker", "{new:#}");
    let phases: Vec<&Value> = new["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["phase"])
        .collect();
    assert!(!phases.iter().any(|p| *p == "baseline"), "{new:#}");
}

#[test]
fn a_worker_that_runs_out_of_memory_and_is_restarted_is_the_leaks_evidence() {
    let _s = serial();
    // The primary forks a new worker as soon as one exits.
    let (v, text, exit) = worker_oom_run(&[]);
    assert_restarted(&v, &text, &exit);
}

#[test]
fn a_worker_that_runs_out_of_memory_before_it_is_followed_is_named_with_its_replacement() {
    let _s = serial();
    // The CI rehearsal's race, made certain: the only worker runs out of memory as it starts,
    // and the port opens only once its replacement listens, so leakhound (which attaches once
    // the port is open) never meets it alive. V8's out-of-memory trace names its pid.
    let (code, v, text) = run(
        &["--heap-mb", "32", "--no-alloc-sites", "--verbose"],
        &[("LEAK", "1"), ("WORKERS", "1"), ("OOM_FIRST", "1")],
        &["node", "cluster.js"],
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["oom"], true, "{text}");
    let dead = dead_first_and_replaced(&v, &text, "ran out of memory; restarted as pid ", |l| {
        l.strip_suffix("; forking a new one")?
            .split(' ')
            .next()?
            .parse()
            .ok()
    });
    assert_eq!(dead["verdict"], "leak", "{dead:#}");
    all_gone(&v);
}

#[test]
fn a_worker_that_crashes_before_it_is_followed_is_named_with_its_code_and_replacement() {
    let _s = serial();
    // A healthy cluster whose first worker throws as it starts (exit code 1); the port opens
    // only once its replacement listens, so leakhound never meets it alive and no
    // out-of-memory trace names it: its primary's exit event (the preload's line) does.
    let (code, v, text) = run(
        &["--no-alloc-sites", "--verbose"],
        &[("LEAK", "0"), ("WORKERS", "1"), ("CRASH_FIRST", "1")],
        &["node", "cluster.js"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    assert_eq!(v["oom"], false, "{text}");
    let dead = dead_first_and_replaced(
        &v,
        &text,
        "exited with code 1 before it was followed; restarted as pid ",
        |l| {
            l.strip_suffix(" exited (1); forking a new one")?
                .parse()
                .ok()
        },
    );
    assert_eq!(dead["verdict"], "target-failed", "{dead:#}");
    assert_eq!(dead["serving"], false, "{dead:#}");
    all_gone(&v);
}

#[test]
fn a_restarted_worker_slow_to_start_is_still_named() {
    let _s = serial();
    // A loaded machine, made certain: the new worker is forked at once but stopped for 6 s,
    // so its inspector banner comes well after the run's idle phase (which used to be all the
    // time the restart had).
    let (v, text, exit) = worker_oom_run(&[("STALL_MS", "6000")]);
    assert_restarted(&v, &text, &exit);
}

#[test]
fn a_worker_that_runs_out_of_memory_and_is_not_restarted_ends_the_run_promptly() {
    let _s = serial();
    // A cluster without a restart handler (its primary lives on): the run waits for no
    // replacement beyond the grace after the primary reaped the dead worker, and names none.
    let (v, text, _) = worker_oom_run(&[("RESTART", "0")]);
    let dead: Vec<Value> = with_role(&v, "worker")
        .into_iter()
        .filter(|w| w["exit"].is_string())
        .collect();
    for w in &dead {
        assert_eq!(w["exit"], "ran out of memory", "{text}");
        let label = w["label"].as_str().unwrap();
        let said = format!("{label}: its parent started no process to replace it (waited ");
        let line = text
            .lines()
            .find(|l| l.contains(&said))
            .unwrap_or_else(|| panic!("{said}\n{text}"));
        let waited: f64 = line
            .rsplit("(waited ")
            .next()
            .and_then(|w| w.trim_end_matches(" s)").parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        // The grace (1.5 s after the reaping) decided, not the 10 s limit.
        assert!(waited < 5.0, "{line}");
    }
}

#[test]
fn rss_growth_the_heaps_do_not_explain_is_an_rss_leak() {
    let _s = serial();
    // native.js keeps OpenSSL contexts (malloc'd, outside the JS heap and `external`).
    let (code, v, text) = run(&["--no-alloc-sites"], &[], &["node", "native.js"]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["leak_kind"], "rss", "{text}");
    assert_eq!(v["fit"]["series"], "rss", "{text}");
    // ~16 KB per context, one context per 4 requests.
    let bpr = v["retained_bytes_per_request"].as_f64().unwrap();
    assert!((1000.0..10000.0).contains(&bpr), "{bpr}");
    assert!(text.contains("LEAK (rss)"), "{text}");
    assert!(text.contains("do not explain it"), "{text}");
    all_gone(&v);
}

#[test]
fn a_forked_child_that_serves_is_judged_and_its_launcher_is_a_wrapper() {
    let _s = serial();
    let (code, v, text) = run(
        &["--no-alloc-sites"],
        &[("LEAK", "1")],
        &["node", "fork.js"],
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    let child = with_role(&v, "child");
    let wrapper = with_role(&v, "wrapper");
    assert_eq!(child.len(), 1, "{:#}", v["processes"]);
    assert_eq!(wrapper.len(), 1, "{:#}", v["processes"]);
    assert_eq!(child[0]["serving"], true);
    assert_eq!(child[0]["verdict"], "leak", "{:#}", child[0]);
    assert_eq!(wrapper[0]["serving"], false);
    assert_eq!(v["target_pid"], child[0]["pid"]);
    let label = child[0]["label"].as_str().unwrap();
    assert!(text.contains(label), "{label} not in:\n{text}");
    all_gone(&v);
}
