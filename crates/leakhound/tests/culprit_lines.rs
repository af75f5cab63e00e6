//! The line to change, end to end, on two servers of the culprit-accuracy suite
//! (`scenarios/culprits.toml`): with `--snapshots`, a per-user activity log whose Map gets
//! one entry per user while each entry's array grows (the `push`, not the once-per-user `set`
//! on the line above); without snapshots, a class in another file of the app whose method
//! pushes onto `this.history` (found by reading the surviving site's function and the app
//! functions it calls).

mod common;

use std::process::Stdio;

use common::{leakhound, repo_root, serial};
use serde_json::Value;

const DIR: &str = "crates/leakhound/tests/servers/culprit";

/// `DIR/file:<line>` of the first line of `file` containing `needle` (1-based).
fn line_of(file: &str, needle: &str) -> String {
    let path = format!("{DIR}/{file}");
    let text = std::fs::read_to_string(repo_root().join(&path)).unwrap();
    let n = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {path}"));
    format!("{path}:{}", n + 1)
}

/// `leakhound run` on `server` with `extra` arguments: the JSON result and the output.
fn run(server: &str, extra: &[&str]) -> (Value, String) {
    run_path(&format!("{DIR}/{server}"), extra)
}

/// [`run`] on a server given by its path from the repository's root.
fn run_path(server: &str, extra: &[&str]) -> (Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("r.json");
    let mut cmd = leakhound();
    cmd.current_dir(repo_root()).args(["run", "-c", "4"]);
    for a in extra {
        cmd.arg(a.replace("{tmp}", &tmp.path().display().to_string()));
    }
    let out = cmd
        .arg("--json")
        .arg(&json)
        .args(["--max-duration", "40s", "--", "node"])
        .arg(server)
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

#[test]
fn the_push_that_grows_a_maps_values_beats_the_set_that_made_the_entry() {
    let _lock = serial();
    let (r, ctx) = run("bearer-activity.js", &["--snapshots", "{tmp}/snaps"]);
    assert_eq!(r["verdict"], "leak", "{ctx}");
    let push = line_of("bearer-activity.js", "activity.get(user).push(");
    let suspect = &r["suspects"][0];
    assert_eq!(suspect["source"][0]["kind"], "grows", "{suspect:#}");
    assert_eq!(
        suspect["source"][0]["location"],
        push.as_str(),
        "{suspect:#}"
    );
    let c = &r["culprit"];
    assert_eq!(c["evidence"], "snapshots", "{c:#}");
    assert_eq!(c["line"]["location"], push.as_str(), "{c:#}");
    assert_eq!(
        c["declared"]["location"],
        line_of("bearer-activity.js", "const activity = new Map()").as_str(),
        "{c:#}"
    );
    // The sentence leads the culprit section of the text output.
    let sentence = c["sentence"].as_str().unwrap();
    assert!(sentence.contains(&push), "{sentence}");
    assert!(ctx.contains(&format!("culprit: {sentence}")), "{ctx}");
}

#[test]
fn without_snapshots_the_sites_function_and_its_callees_name_the_line() {
    let _lock = serial();
    let (r, ctx) = run("price-server.js", &[]);
    assert_eq!(r["verdict"], "leak", "{ctx}");
    assert!(r["suspects"].as_array().is_none_or(|s| s.is_empty()));
    let c = &r["culprit"];
    assert_eq!(c["evidence"], "allocation-sites", "{c:#}");
    assert_eq!(
        c["line"]["location"],
        line_of("price-book.js", "this.history.push(").as_str(),
        "{c:#}"
    );
    assert_eq!(c["holder"], "this.history", "{c:#}");
    let frames = c["frames"].as_array().unwrap();
    assert!(
        frames
            .iter()
            .any(|f| f.as_str().unwrap().contains("price-")),
        "{c:#}"
    );
}

#[test]
fn a_pending_promises_reactions_and_an_appended_string_make_suspects_with_their_line() {
    // The closures of `ready.then(...)` sit under V8's linked list of internal reaction
    // records, and `log += line` is one string however much it holds: both once escaped the
    // three-snapshot comparison's groups.
    let _lock = serial();
    for (server, needle) in [
        ("scenarios/leak-promises.js", "ready.then("),
        ("scenarios/leak-strings.js", "log += "),
    ] {
        let (r, ctx) = run_path(server, &["--snapshots", "{tmp}/snaps"]);
        assert_eq!(r["verdict"], "leak", "{ctx}");
        let text = std::fs::read_to_string(repo_root().join(server)).unwrap();
        let n = text.lines().position(|l| l.contains(needle)).unwrap();
        let want = format!("{server}:{}", n + 1);
        let suspect = &r["suspects"][0];
        let grows = suspect["source"]
            .as_array()
            .and_then(|s| s.iter().find(|l| l["kind"] == "grows"));
        assert_eq!(
            grows.map(|l| l["location"].clone()),
            Some(Value::from(want.as_str())),
            "{suspect:#}\n{ctx}"
        );
        assert_eq!(r["culprit"]["evidence"], "snapshots", "{ctx}");
    }
}
