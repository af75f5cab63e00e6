//! `leakhound run` names the culprit on the seed's examples: allocation sites with `file:line`
//! (all allocations: `getItemAssets`; survivors: `processData`, which fills `responseCache`),
//! saved `.heapprofile` files, and with `--snapshots` three heap snapshots whose comparison
//! names `responseCache`, the path that holds it, and the source lines that declare and grow it.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};

use common::{leakhound, repo_root, serial};
use serde_json::Value;

/// `examples/<file>:<line>` of the first line of `file` containing `needle` (1-based).
fn line_of(file: &str, needle: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("examples").join(file)).unwrap();
    let n = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}"));
    format!("examples/{file}:{}", n + 1)
}

fn run(args: &[&str], json: &Path, script: &str) -> (Output, Value) {
    let out = leakhound()
        .current_dir(repo_root())
        .arg("run")
        .args(args)
        .arg("--json")
        .arg(json)
        .args(["--max-duration", "40s", "--", "node"])
        .arg(format!("examples/{script}"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(json)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out, serde_json::from_str(&text).unwrap())
}

fn gone(pid: u64) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid as i32, 0) } != 0
}

fn site<'a>(sites: &'a Value, function: &str) -> Option<(usize, &'a Value)> {
    sites
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .find(|(_, s)| s["function"] == function)
}

#[test]
fn leaky_example_names_the_allocator_the_cache_and_its_path() {
    let _lock = serial();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("leaky.json");
    let snaps = tmp.path().join("snaps");
    // Four connections keep the heap, and so the snapshots, small.
    let (out, r) = run(
        &["-c", "4", "--snapshots", snaps.to_str().unwrap()],
        &json,
        "leaky-server.js",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = format!("{stdout}\n{stderr}");
    assert_eq!(out.status.code(), Some(1), "{ctx}");
    assert_eq!(r["verdict"], "leak", "{ctx}");
    assert!(
        gone(r["target_pid"].as_u64().unwrap()),
        "the target outlived the run"
    );

    // All allocations: the asset table rebuilt on every call is the top allocator.
    let assets = line_of("leaky-server.js", "const getItemAssets");
    let top = &r["alloc_all"][0];
    assert_eq!(top["function"], "getItemAssets", "{:#}", r["alloc_all"]);
    assert_eq!(top["location"], assets.as_str());
    assert!(top["share"].as_f64().unwrap() > 0.25, "{top}");
    // Survivors: processData, which fills the cache, holds most of what survived.
    let process = line_of("leaky-server.js", "function processData");
    let (rank, s) = site(&r["alloc_survivors"], "processData")
        .unwrap_or_else(|| panic!("{:#}", r["alloc_survivors"]));
    assert_eq!(rank, 0, "{:#}", r["alloc_survivors"]);
    assert_eq!(s["location"], process.as_str());
    assert!(s["share"].as_f64().unwrap() > 0.5, "{s}");
    assert_eq!(r["alloc_sampling_interval"], 32768);

    // The profiles are saved next to the JSON, named after it, and read back as profiles.
    let profiles: Vec<&str> = r["alloc_profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(profiles.len(), 2, "{profiles:?}");
    assert!(profiles[0].ends_with("leaky.alloc-all.heapprofile"));
    assert!(profiles[1].ends_with("leaky.alloc-survivors.heapprofile"));
    let alloc = leakhound()
        .current_dir(repo_root())
        .args(["alloc", "--json", "-", profiles[0]])
        .output()
        .unwrap();
    assert!(alloc.status.success());
    let a: Value = serde_json::from_slice(&alloc.stdout).unwrap();
    assert_eq!(a["top_culprits"][0]["site"]["function"], "getItemAssets");
    let raw: Value = serde_json::from_slice(&std::fs::read(profiles[1]).unwrap()).unwrap();
    assert!(raw["head"]["children"].is_array() && raw["samples"].is_array());

    // Three DevTools-openable snapshots; the comparison names the cache and its path.
    assert_eq!(r["snapshots"].as_array().unwrap().len(), 3, "{ctx}");
    for f in r["snapshots"].as_array().unwrap() {
        let bytes = std::fs::read(f.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"{\"snapshot\":"), "{f}");
        assert!(bytes.trim_ascii_end().ends_with(b"]}"), "{f}");
    }
    let suspect = &r["suspects"][0];
    let title = suspect["title"].as_str().unwrap_or_default();
    assert!(
        title.contains("held by responseCache (Map)"),
        "{:#}",
        r["suspects"]
    );
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    };
    // The app-first path: from the app's request handler, whose scope holds the cache, to
    // the cache; the timer list that the shortest path runs through is folded into one step.
    let path = strings(&suspect["path"]);
    assert_eq!(
        path.last().map(String::as_str),
        Some("responseCache (Map)"),
        "{path:?}"
    );
    assert!(
        !path
            .iter()
            .any(|p| p.contains("timerListMap") || p.contains("_onTimeout")),
        "{path:?}"
    );
    assert!(path[0].starts_with("(Node internals"), "{path:?}");
    // A stable signature, so `compare` can tell the same leak again.
    assert_eq!(
        suspect["signature"].as_str().map(str::len),
        Some(16),
        "{suspect}"
    );
    // The JSON keeps the whole route.
    let full = strings(&suspect["full_path"]);
    assert!(
        full.windows(2)
            .any(|w| w == ["responseCache (Map)", "table"]),
        "{full:?}"
    );
    assert!(suspect["percent"].as_f64().unwrap() > 10.0, "{suspect}");
    // The line that grows the cache, found in the app's source by the holder's name.
    let grows = line_of("leaky-server.js", "responseCache.set(");
    let declared = line_of("leaky-server.js", "const responseCache");
    let source = suspect["source"].as_array().expect("source lines");
    assert_eq!(source[0]["kind"], "grows", "{suspect}");
    assert_eq!(source[0]["location"], grows.as_str(), "{suspect}");
    assert!(
        source
            .iter()
            .any(|l| l["kind"] == "declared" && l["location"] == declared.as_str()),
        "{suspect}"
    );
    assert_eq!(declared, "examples/leaky-server.js:22");
    assert!(r["culprit_notes"].as_array().unwrap().is_empty(), "{ctx}");

    // The terminal says it too, with file:line.
    assert!(
        stdout.contains(&format!("getItemAssets  {assets}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("processData  {process}")),
        "{stdout}"
    );
    assert!(stdout.contains("culprit (heap snapshots"), "{stdout}");
    assert!(
        stdout.contains(&format!("grows     {grows}  responseCache.set(")),
        "{stdout}"
    );
    assert!(
        stdout.contains("held by responseCache (Map)")
            && stdout.contains(&format!("responseCache (Map) at {declared}\n")),
        "{stdout}"
    );
}

#[test]
fn fixed_example_is_no_leak_with_profiles_in_the_given_directory() {
    let _lock = serial();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("fixed.json");
    let dir = tmp.path().join("profiles");
    let (out, r) = run(
        &["--profile-dir", dir.to_str().unwrap()],
        &json,
        "fixed-server.js",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(r["verdict"], "no-leak");
    // The fixed getItemAssets allocates nothing: it is nowhere among the allocators.
    assert!(!r["alloc_all"].as_array().unwrap().is_empty());
    assert!(
        site(&r["alloc_all"], "getItemAssets").is_none(),
        "{:#}",
        r["alloc_all"]
    );
    // What survives the rounds is tiny next to what was allocated.
    let sum = |v: &Value| -> u64 {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["bytes"].as_u64().unwrap())
            .sum()
    };
    assert!(
        sum(&r["alloc_survivors"]) * 20 < sum(&r["alloc_all"]),
        "{:#}",
        r["alloc_survivors"]
    );
    for name in ["alloc-all.heapprofile", "alloc-survivors.heapprofile"] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    assert!(r["suspects"].as_array().unwrap().is_empty());
    assert!(r["snapshots"].as_array().unwrap().is_empty());
    assert!(!stdout.contains("culprit"), "{stdout}");
}

#[test]
fn bad_culprit_flags_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    for args in [
        vec![
            "--snapshots".to_string(),
            file.join("sub").display().to_string(),
        ],
        vec!["--sampling-interval".into(), "0".into()],
        vec!["--sampling-interval".into(), "lots".into()],
    ] {
        let out = leakhound()
            .arg("run")
            .args(&args)
            .args(["--", "node", "-e", "0"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("leakhound: error:"), "{err}");
    }
}

#[test]
fn ctrl_c_during_a_snapshot_leaves_no_half_file_and_no_process() {
    let _lock = serial();
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snaps");
    let (mut child, mut lines) = common::leakhound_watched(&[
        "run".as_ref(),
        "-c".as_ref(),
        "4".as_ref(),
        "--snapshots".as_ref(),
        snaps.as_os_str(),
        "--".as_ref(),
        "node".as_ref(),
        "examples/leaky-server.js".as_ref(),
    ]);
    let mut pid = 0u64;
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("(pid ").nth(1) {
            pid = rest.split(')').next().unwrap().parse().unwrap();
        }
        seen.push(line.clone());
        if line.contains("heap snapshot 2 of 3") {
            break;
        }
    }
    assert!(pid > 0, "{seen:?}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    std::thread::spawn(move || for _ in lines {});
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen:?}");
    assert!(snaps.join("s1-after-warmup.heapsnapshot").is_file());
    assert!(
        !snaps.join("s2-after-load.heapsnapshot").exists(),
        "a half-written snapshot was left behind"
    );
    assert!(gone(pid), "the target outlived the run");
}
