//! `leakhound run` while the target starts (issue 10, items 2, 9 and 10): an app that runs out
//! of memory before it listens is a failed target, not a leak; an app that ignores `$PORT` is
//! found on the port it listens on; the user's own `--max-old-space-size` wins.
mod common;

use std::time::{Duration, Instant};

use common::{free_port, repo_root, run_json, serial};

fn server(name: &str) -> String {
    repo_root()
        .join("crates/leakhound/tests/servers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only probes.
    unsafe { libc::kill(pid, 0) == 0 }
}

const MIB: u64 = 1 << 20;

#[test]
fn running_out_of_memory_while_starting_is_a_failed_target() {
    let _l = serial();
    let t0 = Instant::now();
    let (code, v, text) = run_json(&["--", "node", &server("startup-oom.js")], &[]);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(v["verdict"], "target-failed", "{v}");
    assert_eq!(v["oom"], true, "{v}");
    assert_eq!(v["requests"], 0);
    let why = v["target_failed"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(
        why.starts_with("ran out of memory while starting with a 128 MiB heap (heap limit ")
            && why.ends_with(" MiB): raise --heap-mb"),
        "{why}"
    );
    // The real limit (old space plus young generation), not 0: Node 20 gives 176 MB.
    let limit = v["heap_limit_bytes"].as_u64().unwrap();
    assert!((129 * MIB..256 * MIB).contains(&limit), "{limit}");
    let printed: u64 = why
        .split("(heap limit ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(printed, (limit as f64 / MIB as f64).round() as u64);
    assert!(text.contains(why), "{text}");
    assert_eq!(v["reason"], why, "{v}");
    assert!(!text.contains("LEAK"), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    let pid = v["target_pid"].as_i64().unwrap() as i32;
    assert!(!alive(pid), "target {pid} survived");
}

#[test]
fn a_target_that_ignores_port_is_found_where_it_listens() {
    let _l = serial();
    let fixed = free_port();
    let t0 = Instant::now();
    let (code, v, text) = run_json(
        &[
            "--max-duration",
            "20s",
            "--no-alloc-sites",
            "--",
            "node",
            &server("fixed-port-server.js"),
        ],
        &[("FIXED_PORT", &fixed.to_string())],
    );
    // Found at once (the app names the port it listens on), not after --start-timeout.
    assert!(t0.elapsed() < Duration::from_secs(28), "{:?}", t0.elapsed());
    assert!(matches!(code, Some(0) | Some(3)), "{text}");
    assert!(
        matches!(v["verdict"].as_str(), Some("no-leak" | "inconclusive")),
        "{v}"
    );
    assert!(
        text.contains(&format!(
            "the target listens on 127.0.0.1:{fixed}, not on PORT="
        )) && text.contains(&format!("pass --port {fixed} to silence this")),
        "{text}"
    );
    assert_eq!(v["port"], fixed, "{v}");
    assert!(v["requests"].as_u64().unwrap() > 100, "{v}");
    assert_eq!(v["http_errors"], 0);
    assert_eq!(v["transport_errors"], 0);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("ignored PORT=") && w.contains(&format!("--port {fixed}"))
        }),
        "{warnings:?}"
    );
}

#[test]
fn a_target_that_says_it_listens_elsewhere_gets_a_port_hint() {
    let _l = serial();
    let t0 = Instant::now();
    let (code, v, text) = run_json(
        &[
            "--start-timeout",
            "3s",
            "--",
            "node",
            &server("says-it-listens.js"),
        ],
        &[],
    );
    assert_eq!(code, Some(4), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    // Shown while waiting, with the app's own lines.
    assert!(
        text.contains("the target printed `Server listening on http://localhost:3456` but does not accept connections on PORT="),
        "{text}"
    );
    assert!(text.contains("  | loading routes..."), "{text}");
    assert!(
        text.contains("hint: if it ignores $PORT, pass --port 3456"),
        "{text}"
    );
    assert_eq!(v["verdict"], "target-failed", "{v}");
    let why = v["target_failed"].as_str().unwrap();
    assert!(
        why.ends_with("if it ignores $PORT, pass --port 3456"),
        "{why}"
    );
}

#[test]
fn the_users_own_heap_flag_wins_and_is_printed() {
    let _l = serial();
    let (code, v, text) = run_json(
        &[
            "--max-duration",
            "5s",
            "--no-alloc-sites",
            "--",
            "node",
            "--max-old-space-size=512",
            "examples/fixed-server.js",
        ],
        &[],
    );
    assert!(matches!(code, Some(0) | Some(3)), "{text}");
    assert!(
        text.contains("--max-old-space-size=512 (yours, from the command line)"),
        "{text}"
    );
    assert!(!text.contains("--max-old-space-size=128"), "{text}");
    // 512 MB of old space: V8's heap_size_limit is 560 MB on Node 20.
    let limit = v["heap_limit_bytes"].as_u64().unwrap();
    assert!((500 * MIB..640 * MIB).contains(&limit), "{limit}");

    // The same flag in the user's NODE_OPTIONS wins over --heap-mb too.
    let (code, v, text) = run_json(
        &[
            "--max-duration",
            "5s",
            "--no-alloc-sites",
            "--heap-mb",
            "64",
            "--",
            "node",
            "examples/fixed-server.js",
        ],
        &[("NODE_OPTIONS", "--max-old-space-size=300")],
    );
    assert!(matches!(code, Some(0) | Some(3)), "{text}");
    assert!(
        text.contains("--max-old-space-size=300 (yours, from NODE_OPTIONS)"),
        "{text}"
    );
    let limit = v["heap_limit_bytes"].as_u64().unwrap();
    assert!((300 * MIB..400 * MIB).contains(&limit), "{limit}");
}
