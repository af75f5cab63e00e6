//! `leakhound run` when things go wrong: a target that never listens, exits at once, dies of
//! OOM, Ctrl-C in the middle; and the user's own NODE_OPTIONS, `npm start`.

mod common;

use std::ffi::OsStr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{leakhound, repo_root, run_json, serial};

fn fixture(name: &str) -> String {
    repo_root()
        .join("tests/fixtures/run")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only probes.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn a_target_that_never_listens_is_exit_4() {
    let _l = serial();
    let t0 = Instant::now();
    let (code, v, text) = run_json(
        &[
            "--start-timeout",
            "2s",
            "--",
            "node",
            &fixture("never-listens.js"),
        ],
        &[],
    );
    assert_eq!(code, Some(4), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(15));
    assert!(text.contains("did not accept connections"), "{text}");
    assert!(v["target_failed"].is_string(), "{v}");
    let pid = v["target_pid"].as_i64().unwrap() as i32;
    assert!(!alive(pid), "target {pid} survived");
}

#[test]
fn a_target_that_exits_at_once_is_exit_4_with_its_stderr() {
    let _l = serial();
    let (code, v, text) = run_json(&["--", "node", &fixture("exits-at-once.js")], &[]);
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("DATABASE_URL is not set"), "{text}");
    assert!(text.contains("exited before listening"), "{text}");
    // issue 10: a failed target says so (it was "inconclusive", indistinguishable from a real
    // inconclusive result).
    assert_eq!(v["verdict"], "target-failed");
    assert_eq!(v["reason"], v["target_failed"]);
}

#[test]
fn an_oom_under_load_is_a_leak_with_evidence() {
    let _l = serial();
    let t0 = Instant::now();
    let (code, v, text) = run_json(&["--heap-mb", "32", "--", "node", &fixture("oom.js")], &[]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{v}");
    assert_eq!(v["oom"], true);
    assert!(v["evidence"][0].as_str().unwrap().contains("out of memory"));
    assert!(!v["gc_last_lines"].as_array().unwrap().is_empty(), "{v}");
    assert!(t0.elapsed() < Duration::from_secs(40), "{:?}", t0.elapsed());
    let pid = v["target_pid"].as_i64().unwrap() as i32;
    assert!(!alive(pid));
}

#[test]
fn ctrl_c_in_the_middle_leaves_no_process_behind() {
    let _l = serial();
    let (mut child, mut lines) = common::leakhound_watched(
        &["run", "--", "node", "examples/fixed-server.js"].map(OsStr::new),
    );
    let mut pid = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("(pid ").nth(1) {
            pid = rest.split(')').next().unwrap().parse::<i32>().unwrap();
        }
        if line.contains("warm-up") {
            break;
        }
    }
    assert!(pid > 0 && alive(pid));
    std::thread::sleep(Duration::from_millis(300));
    let status = common::interrupt_and_wait(
        &mut child,
        Duration::from_secs(15),
        "leakhound hung after SIGINT",
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(!alive(pid), "target {pid} survived Ctrl-C");
    // SAFETY: probing the target's process group.
    assert!(
        unsafe { libc::kill(-pid, 0) } != 0,
        "its process group survived"
    );
}

/// Whether any live (not zombie) process is in process group `pgid`.
fn group_running(pgid: i32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // Fields after the command's `)`: state, ppid, pgrp.
        let rest: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, r)| r.split_whitespace().collect());
        rest.len() > 2 && rest[0] != "Z" && rest[2] == pgid.to_string()
    })
}

/// SIGKILL leaves leakhound no handler and no destructor: its watchdogs still end the target's
/// whole cluster and the load command's group (the `sleep` the command left behind too).
#[test]
fn a_killed_leakhound_leaves_no_process_behind() {
    let _l = serial();
    let (mut child, mut lines) = common::leakhound_watched(
        &[
            "run",
            "--max-duration",
            "60s",
            "--load-cmd",
            "sleep 300 & wait",
            "--",
            "node",
            "crates/leakhound/tests/servers/processes/cluster.js",
        ]
        .map(OsStr::new),
    );
    let pid_in = |line: &str| -> i32 {
        let rest = line.split("(pid ").nth(1).expect("(pid N)");
        rest.split(')').next().unwrap().parse().unwrap()
    };
    let (mut target, mut load, mut seen) = (0, 0, Vec::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("started `node") {
            target = pid_in(&line);
        }
        if line.contains("load command:") {
            load = pid_in(&line);
            break;
        }
    }
    assert!(target > 0 && load > 0, "{seen:#?}");
    assert!(group_running(target) && group_running(load), "{seen:#?}");
    // SAFETY: SIGKILL to the leakhound process this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while (group_running(target) || group_running(load)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = [target, load].map(group_running);
    for g in [target, load] {
        common::kill_group(g as u32);
    }
    assert_eq!(
        left,
        [false, false],
        "the target's group ({target}) and the load command's ({load}) outlived a killed leakhound"
    );
}

#[test]
fn the_users_node_options_are_kept() {
    let _l = serial();
    let opts = format!("--require {}", fixture("user-preload.js"));
    let (code, v, text) = run_json(
        &["--", "node", "examples/fixed-server.js"],
        &[("NODE_OPTIONS", &opts)],
    );
    assert_eq!(code, Some(0), "{text}");
    let mem = v["mem_lines"].as_array().unwrap();
    assert!(
        mem.iter()
            .any(|m| m["label"] == "user-preload" && m["mb"] == 7.0),
        "{mem:?}"
    );
    // And ours were applied too: the heap limit is the small one, not Node's default 4 GB.
    assert!(v["heap_limit_bytes"].as_u64().unwrap() < 512 << 20, "{v}");
}

#[test]
fn npm_start_uses_the_inspector_of_the_serving_process() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"name":"lh-npm-test","version":"1.0.0","private":true,"scripts":{"start":"node server.js"}}"#,
    )
    .unwrap();
    std::fs::copy(
        repo_root().join("scenarios/leak-map.js"),
        dir.path().join("server.js"),
    )
    .unwrap();
    std::fs::copy(
        repo_root().join("scenarios/_serve.js"),
        dir.path().join("_serve.js"),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    let out = leakhound()
        .current_dir(dir.path())
        .arg("run")
        .arg("--json")
        .arg(&json)
        .args(["--", "npm", "start"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["verdict"], "leak");
    // The serving process is npm's child, not npm itself.
    let pid = v["target_pid"].as_i64().unwrap() as i32;
    assert!(text.contains(&format!("of pid {pid}")), "{text}");
    let npm_pid: i32 = text
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    assert_ne!(pid, npm_pid, "{text}");
    assert!(!alive(pid) && !alive(npm_pid));
}
