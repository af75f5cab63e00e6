//! `leakhound run` on services that do their work in worker threads (issue 12): a worker that
//! keeps what it is sent is a leak, named by its title and script and by the line that
//! allocates what it keeps; a healthy pool of workers is no leak. Before the `NodeWorker`
//! domain was followed, both read NO LEAK (the main isolate stays flat in both).
mod common;

use std::time::{Duration, Instant};

use common::{repo_root, run_json, serial};

const DIR: &str = "crates/leakhound/tests/servers/threads";

/// `DIR/<file>:<line>` of the first line of `file` containing `needle` (1-based).
fn line_of(file: &str, needle: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join(DIR).join(file)).unwrap();
    let n = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}"));
    format!("{DIR}/{file}:{}", n + 1)
}

fn gone(pid: u64) -> bool {
    // SAFETY: signal 0 only probes.
    pid > 0 && unsafe { libc::kill(pid as i32, 0) } != 0
}

#[test]
fn a_worker_thread_that_keeps_what_it_gets_is_a_leak_named_with_its_line() {
    let _s = serial();
    let t0 = Instant::now();
    let server = format!("{DIR}/leak-server.js");
    let (code, v, text) = run_json(&["--max-duration", "40s", "--", "node", &server], &[]);
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    assert_eq!(v["leak_kind"], "js-heap", "{text}");
    let script = format!("{DIR}/audit-worker.js");
    let site = line_of("audit-worker.js", "parentPort.on('message'");

    // The verdict names the thread, and the line that allocates what it keeps.
    let leak_in = v["leak_in"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(leak_in.starts_with("worker thread [worker 1]"), "{leak_in}");
    assert!(leak_in.contains(&script), "{leak_in}");
    assert_eq!(v["evidence"][0], format!("the leak is in {leak_in}"), "{v}");
    let allocated = format!("what it keeps was allocated in (anonymous) at {site}");
    assert_eq!(v["evidence"][1], allocated, "{v}");
    assert!(
        text.contains(&format!("  - the leak is in {leak_in}\n")),
        "{text}"
    );
    assert!(text.contains(&allocated), "{text}");
    assert_eq!(
        v["alloc_survivors"][0]["location"], site,
        "{:#}",
        v["alloc_survivors"]
    );

    // The top-level slope is the thread's: each request leaves a ~0.5 KiB record behind.
    let bpr = v["retained_bytes_per_request"].as_f64().unwrap();
    assert!((300.0..2000.0).contains(&bpr), "{bpr}");

    // processes[]: the serving process, flat on its main thread, holding the leaking thread.
    let p = &v["processes"][0];
    assert_eq!(p["pid"], v["target_pid"], "{p}");
    assert_eq!(p["role"], "primary");
    assert_ne!(p["verdict"], "leak", "the main isolate keeps nothing: {p}");
    let threads = p["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1, "{p}");
    let t = &threads[0];
    assert_eq!(t["verdict"], "leak", "{t}");
    assert_eq!(t["url"], script);
    assert!(
        t["title"].as_str().unwrap().starts_with("[worker 1]"),
        "{t}"
    );
    assert_eq!(t["alloc_survivors"][0]["location"], site, "{t}");
    // Its samples are its own isolate's: it grows while the main isolate does not.
    let heap = |s: &serde_json::Value| s["heap_used"].as_f64().unwrap();
    let ts = t["samples"].as_array().unwrap();
    let ps = p["samples"].as_array().unwrap();
    assert!(ts.len() >= 5, "{t}");
    let grown = heap(ts.last().unwrap()) - heap(&ts[0]);
    let main_grown = heap(ps.last().unwrap()) - heap(&ps[0]);
    assert!(grown > 4.0 * 1048576.0, "thread grew {grown}");
    assert!(
        main_grown < grown / 4.0,
        "main grew {main_grown}, thread {grown}"
    );
    // The terminal lists the thread with its verdict.
    assert!(
        text.lines()
            .any(|l| l.contains("[worker 1]") && l.contains("LEAK (js-heap)")),
        "{text}"
    );
    assert!(
        gone(v["target_pid"].as_u64().unwrap()),
        "the target outlived the run"
    );
}

#[test]
fn a_healthy_worker_pool_is_no_leak_with_each_thread_decided() {
    let _s = serial();
    let t0 = Instant::now();
    let server = format!("{DIR}/pool-server.js");
    let (code, v, text) = run_json(&["--max-duration", "40s", "--", "node", &server], &[]);
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(v["verdict"], "no-leak", "{text}");
    assert!(v.get("leak_in").is_none(), "{v}");
    let threads = v["processes"][0]["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 2, "{v}");
    let script = format!("{DIR}/hash-worker.js");
    for t in threads {
        assert_eq!(t["url"], script, "{t}");
        assert_eq!(t["verdict"], "no-leak", "{t}");
        assert!(t["samples"].as_array().unwrap().len() >= 5, "{t}");
    }
    assert!(!text.contains("LEAK ("), "{text}");
    assert!(
        gone(v["target_pid"].as_u64().unwrap()),
        "the target outlived the run"
    );
}

#[test]
fn snapshots_of_the_leaking_thread_name_what_holds_it_and_its_lines() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snaps");
    let server = format!("{DIR}/leak-server.js");
    // Four connections keep the worker's heap, and so its snapshots, small.
    let (code, v, text) = run_json(
        &[
            "-c",
            "4",
            "--max-duration",
            "40s",
            "--snapshots",
            snaps.to_str().unwrap(),
            "--",
            "node",
            &server,
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    // The thread's snapshots go in a directory of their own, beside the main thread's.
    let files: Vec<&str> = v["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 3, "{v}");
    assert!(files.iter().all(|f| f.contains("/thread-1/")), "{files:?}");
    assert!(snaps.join("s1-after-warmup.heapsnapshot").is_file());
    let s = &v["suspects"][0];
    assert!(
        s["title"]
            .as_str()
            .unwrap()
            .contains("held by auditLog (Array)"),
        "{s}"
    );
    let grows = line_of("audit-worker.js", "auditLog.push(entry)");
    let declared = line_of("audit-worker.js", "const auditLog = []");
    assert_eq!(s["source"][0]["kind"], "grows", "{s}");
    assert_eq!(s["source"][0]["location"], grows, "{s}");
    assert_eq!(s["source"][1]["location"], declared, "{s}");
    assert!(text.contains(&format!("grows     {grows}")), "{text}");
    // The thread keeps its own copy; the main thread's are the process's.
    let t = &v["processes"][0]["threads"][0];
    assert_eq!(t["suspects"][0]["title"], s["title"], "{t}");
}

#[test]
fn a_thread_that_never_yields_or_ends_early_is_marked_and_does_not_stall_the_run() {
    let _s = serial();
    let t0 = Instant::now();
    let server = format!("{DIR}/odd-workers.js");
    let (code, v, text) = run_json(
        &[
            "--no-alloc-sites",
            "--max-duration",
            "40s",
            "--",
            "node",
            &server,
        ],
        &[],
    );
    // Two forced GCs that time out, then the spinner is left alone.
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
    assert!(v["duration_s"].as_f64().unwrap() < 45.0, "{v}");
    assert!(matches!(code, Some(0) | Some(3)), "{text}");
    assert_ne!(v["verdict"], "leak", "{text}");
    let threads = v["processes"][0]["threads"].as_array().unwrap();
    let by_title = |t: &str| {
        threads
            .iter()
            .find(|x| x["title"].as_str().unwrap().ends_with(t))
            .unwrap_or_else(|| panic!("no {t} in {threads:?}"))
    };
    let spinner = by_title("spinner");
    let note = spinner["note"]
        .as_str()
        .unwrap_or_else(|| panic!("{spinner}"));
    assert!(
        note.starts_with("no longer followed: it stopped answering"),
        "{note}"
    );
    assert_eq!(spinner["ended"], false);
    assert!(text.contains(note), "{text}");
    let short = by_title("short-lived");
    assert_eq!(short["ended"], true, "{short}");
    assert!(text.contains("short-lived: "), "{text}");
    assert!(text.contains("(ended during the run)"), "{text}");
}
