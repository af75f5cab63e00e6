//! The scenario suite: every server in `scenarios/expected.toml` gets the verdict it must get.

mod common;

use std::process::Stdio;
use std::time::Instant;

use common::{leakhound, repo_root, serial};

#[test]
fn every_scenario_gets_its_expected_verdict() {
    let _lock = serial();
    let root = repo_root();
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("scenarios/expected.toml")).unwrap())
            .unwrap();
    assert!(manifest.len() >= 16, "the suite shrank: {}", manifest.len());
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut times = Vec::new();
    for (name, spec) in &manifest {
        let path = spec["path"].as_str().unwrap();
        let want = spec["verdict"].as_str().unwrap();
        let json = dir.path().join(format!("{name}.json"));
        let t0 = Instant::now();
        let out = leakhound()
            .current_dir(&root)
            .args(["run", "--max-duration", "45s", "--json"])
            .arg(&json)
            .args(["--", "node", path])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let secs = t0.elapsed().as_secs_f64();
        times.push(secs);
        let code = out.status.code();
        let report: serde_json::Value = match std::fs::read_to_string(&json) {
            Ok(t) => serde_json::from_str(&t).unwrap(),
            Err(e) => {
                failures.push(format!(
                    "{name}: no JSON ({e}), exit {code:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
        };
        let got = report["verdict"].as_str().unwrap_or("?");
        let want_code = if want == "leak" { 1 } else { 0 };
        let mut ok = got == want && code == Some(want_code);
        if let Some(kind) = spec.get("kind").and_then(|k| k.as_str()) {
            ok &= report["leak_kind"] == kind;
        }
        if spec.get("allocation_pressure").and_then(|v| v.as_bool()) == Some(true) {
            ok &= report["allocation_pressure"].is_string();
        }
        if want == "no-leak" && name != "ok-alloc" && name != "seed-fixed" {
            ok &= report["allocation_pressure"].is_null();
        }
        eprintln!(
            "{name}: {got} ({}) in {secs:.1}s, exit {code:?}",
            report["leak_kind"]
        );
        if !ok {
            failures.push(format!(
                "{name}: want {want} {:?}, got {got} {} exit {code:?}; evidence {}; stderr:\n{}",
                spec.get("kind"),
                report["leak_kind"],
                report["evidence"],
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let max = times.iter().cloned().fold(0.0, f64::max);
    assert!(max < 50.0, "a scenario took {max:.1}s");
}
