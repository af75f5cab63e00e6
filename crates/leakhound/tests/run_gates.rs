//! `leakhound run` as a CI step: the HTML and Markdown outputs, `--fail-on` and the budgets with
//! their exit codes, and the shared load options (`--config`/`--endpoint`, `-n`, `-q`).

mod common;

use std::process::{Output, Stdio};

use common::{leakhound, repo_root, serial};

fn run(args: &[&str]) -> (Output, String) {
    let out = leakhound()
        .current_dir(repo_root())
        .arg("run")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

fn read_json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn a_leaky_run_over_its_retained_budget_writes_both_files_and_exits_11() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let (json, html, md) = (
        dir.path().join("run.json"),
        dir.path().join("report.html"),
        dir.path().join("summary.md"),
    );
    let (out, text) = run(&[
        "--max-duration",
        "25s",
        "--config",
        "examples/leakhound.toml",
        "--endpoint",
        "data",
        "--json",
        json.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
        "--max-retained-per-request",
        "1B",
        "--",
        "node",
        "examples/leaky-server.js",
    ]);
    assert_eq!(out.status.code(), Some(11), "{text}");
    assert!(
        text.contains("budget exceeded (exit 11): --max-retained-per-request 1 B"),
        "{text}"
    );
    assert!(text.contains("driving endpoint `data`"), "{text}");
    let r = read_json(&json);
    assert_eq!(r["verdict"], "leak", "{text}");
    // The seed's POST /api/data went through the engine: every request counted, no failures.
    let load = &r["load"];
    assert_eq!(load["schema"], "leakhound.load/v1");
    assert_eq!(load["endpoints"][0], "data");
    assert_eq!(load["total_requests"], r["requests"]);
    assert_eq!(load["failed"], 0, "{load}");
    assert!(load["latency"]["p99_ms"].as_f64().unwrap() > 0.0);
    let rounds = r["rounds"].as_array().unwrap();
    assert!(rounds.len() >= 3, "{rounds:?}");
    assert!(rounds
        .iter()
        .all(|x| x["requests_per_second"].as_f64().unwrap() > 0.0
            && x["p99_ms"].as_f64().unwrap() >= x["p50_ms"].as_f64().unwrap()));
    let gcs = r["gc_events"].as_array().unwrap();
    assert!(!gcs.is_empty() && gcs.len() <= 2000, "{}", gcs.len());
    assert!(gcs.iter().all(|g| {
        let s = g["freed_share"].as_f64().unwrap();
        (0.0..=1.0).contains(&s) && g["collector"].as_str().is_some_and(|c| !c.is_empty())
    }));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"));
    // Self-contained: nothing fetched (the only URLs are SVG namespaces).
    for bad in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!page.contains(bad), "{bad}");
    }
    // The GC events and the rounds filled by `run` reach the report's charts.
    assert!(page.contains("heap freed by each GC"), "no GC chart");
    assert!(page.contains("per load round"), "no rounds chart");
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(summary.to_lowercase().contains("leak"), "{summary}");
}

#[test]
fn a_fixed_run_fails_only_on_its_pressure_and_gc_share_gates() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    // The fixed server does not leak, but it still collects garbage under load: a GC budget of
    // 0.1 % of the time is exceeded; `--fail-on pressure` fails exactly when pressure is found.
    let (out, text) = run(&[
        "--max-duration",
        "25s",
        "--fail-on",
        "leak,pressure",
        "--max-gc-share",
        "0.1%",
        "--json",
        json.to_str().unwrap(),
        "--",
        "node",
        "examples/fixed-server.js",
    ]);
    let r = read_json(&json);
    assert_eq!(r["verdict"], "no-leak", "{text}");
    assert!(!text.contains("--fail-on leak"), "{text}");
    let share = r["gc_time_share"].as_f64().expect("GC share measured");
    assert!(share > 0.001 && share < 1.0, "{share}");
    assert!(
        text.contains(&format!(
            "budget exceeded (exit 12): --max-gc-share 0.1%: GC took {:.1}% of the time",
            share * 100.0
        )),
        "{text}"
    );
    // Documented: the exit code is the first failed gate's, in the order leak, pressure,
    // retained, GC share; pressure (exit 10, named) is reported exactly when found.
    match r["allocation_pressure"].as_str() {
        Some(p) => {
            assert_eq!(out.status.code(), Some(10), "{text}");
            assert!(
                text.contains(&format!(
                    "budget exceeded (exit 10): --fail-on pressure: {p}"
                )),
                "{text}"
            );
        }
        None => {
            assert_eq!(out.status.code(), Some(12), "{text}");
            assert!(!text.contains("exit 10"), "{text}");
        }
    }
}

#[test]
fn n_caps_the_requests_of_the_whole_run_and_q_sets_the_rate() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let (out, text) = run(&[
        "--max-duration",
        "20s",
        "--idle",
        "200ms",
        "-q",
        "500",
        "-n",
        "1000",
        "--json",
        json.to_str().unwrap(),
        "--path",
        "/health",
        "--",
        "node",
        "examples/fixed-server.js",
    ]);
    assert!(
        out.status.code().is_some_and(|c| c != 2 && c != 4),
        "{text}"
    );
    let r = read_json(&json);
    assert_eq!(r["requests"], 1000, "{text}");
    assert_eq!(r["load"]["total_requests"], 1000);
    assert_eq!(r["load"]["rate"], 500.0);
    // Open model: no round runs faster than the asked rate (plus scheduling slack).
    for x in r["rounds"].as_array().unwrap() {
        let rps = x["requests_per_second"].as_f64().unwrap();
        assert!(rps < 600.0, "round at {rps} req/s: {text}");
    }
    if r["verdict"] == "inconclusive" {
        assert!(text.contains("request budget reached (-n)"), "{text}");
    }
}

#[test]
fn d_caps_the_time_under_load_of_the_whole_run() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let (out, text) = run(&[
        "--idle",
        "200ms",
        "-d",
        "1s",
        "-c",
        "4",
        "--json",
        json.to_str().unwrap(),
        "--",
        "node",
        "examples/fixed-server.js",
    ]);
    // One second of load cannot settle a verdict: the warm-up is cut to -d, then it ends.
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("load time budget reached (-d)"), "{text}");
    let r = read_json(&json);
    let secs = r["load"]["total_time_s"].as_f64().unwrap();
    assert!((0.9..1.5).contains(&secs), "{secs} s under load: {text}");
    assert_eq!(r["load"]["connections"], 4);
    assert!(r["requests"].as_u64().unwrap() > 0);
}
