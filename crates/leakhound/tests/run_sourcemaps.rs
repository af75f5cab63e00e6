//! Source maps: a TypeScript service's leak is named at its `.ts` line, whether it runs as a
//! bundle with a `.map` file beside it (`node dist/app.js`) or through `tsx`, which transpiles
//! in memory with an inline map (`node --import tsx src/app.ts`). The generated position stays
//! in the JSON as `generated`.
//!
//! The fixture is `tests/servers/ts-app`: `src/quotes.ts` keeps every quote in `history`
//! (`makeQuote`), and `dist/` was built once from it with esbuild (see its `package.json`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{leakhound, serial};
use serde_json::Value;

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/ts-app")
}

/// The 1-based number of the first line of `file` (in the fixture) that contains `needle`.
fn line_of(file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(app_dir().join(file)).unwrap();
    let n = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}"));
    n as u64 + 1
}

fn run(args: &[&str], json: &Path, command: &[&str]) -> (Output, Value) {
    let out = leakhound()
        .current_dir(app_dir())
        .arg("run")
        .args(args)
        .arg("--json")
        .arg(json)
        .args(["--max-duration", "40s", "--"])
        .args(command)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(json)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out, serde_json::from_str(&text).unwrap())
}

fn site<'a>(sites: &'a Value, function: &str) -> &'a Value {
    sites
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["function"] == function)
        .unwrap_or_else(|| panic!("no {function} in {sites:#}"))
}

#[test]
fn a_bundle_with_a_map_file_names_the_ts_line() {
    let _lock = serial();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("dist.json");
    let snaps = tmp.path().join("snaps");
    let (out, r) = run(
        &["-c", "4", "--snapshots", snaps.to_str().unwrap()],
        &json,
        &["node", "dist/app.js"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ctx = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{ctx}");
    assert_eq!(r["verdict"], "leak", "{ctx}");

    // V8 gives the function's start: `export function makeQuote(` in the source, and
    // `function makeQuote(` in the bundle.
    let ts = line_of("src/quotes.ts", "export function makeQuote(");
    let js = line_of("dist/app.js", "function makeQuote(");
    assert_ne!(ts, js, "the fixture must tell the two apart");
    let want = format!("src/quotes.ts:{ts}");
    let survivor = site(&r["alloc_survivors"], "makeQuote");
    assert_eq!(survivor["location"], want.as_str(), "{survivor:#}");
    assert_eq!(survivor["generated"]["file"], "dist/app.js", "{survivor:#}");
    assert_eq!(survivor["generated"]["line"], js, "{survivor:#}");
    assert_eq!(
        r["alloc_survivors"][0]["function"], "makeQuote",
        "{:#}",
        r["alloc_survivors"]
    );
    let all = site(&r["alloc_all"], "makeQuote");
    assert_eq!(all["location"], want.as_str(), "{all:#}");
    assert!(
        stdout.contains(&format!("makeQuote  {want}")),
        "the terminal shows the .ts line: {ctx}"
    );
    assert!(!stdout.contains("dist/app.js:"), "{ctx}");

    // The snapshots name `history`; its lines are searched in the bundle's original sources.
    let grows = format!("src/quotes.ts:{}", line_of("src/quotes.ts", "history.set("));
    let declared = format!(
        "src/quotes.ts:{}",
        line_of("src/quotes.ts", "const history = new Map")
    );
    let suspect = r["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"].as_str().unwrap().contains("held by history"))
        .unwrap_or_else(|| panic!("no suspect held by history: {:#}", r["suspects"]));
    let source: Vec<(&str, &str)> = suspect["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["location"].as_str().unwrap()))
        .collect();
    assert_eq!(
        source,
        [("grows", grows.as_str()), ("declared", declared.as_str())]
    );
    // The culprit sentence, its excerpts and the flame graph are in the `.ts` lines too.
    ts_culprit(&r, &grows, &declared, &ctx);
    ts_flame(&r, &json, ts);

    // `leakhound alloc` on the saved survivors profile maps the same way.
    let profile = r["alloc_profiles"][1].as_str().unwrap();
    let out = leakhound()
        .current_dir(app_dir())
        .args(["alloc", profile, "--json", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = &a["top_culprits"][0]["site"];
    assert_eq!(top["function"], "makeQuote", "{a:#}");
    assert_eq!(top["file"], "src/quotes.ts", "{top:#}");
    assert_eq!(top["line"], ts, "{top:#}");
    assert_eq!(top["generated"]["file"], "dist/app.js", "{top:#}");
    assert_eq!(top["generated"]["line"], js, "{top:#}");
}

/// The culprit's line to change and its declaration are the `.ts` lines, with excerpts of the
/// `.ts` source around them.
fn ts_culprit(r: &Value, grows: &str, declared: &str, ctx: &str) {
    let c = &r["culprit"];
    assert_eq!(c["line"]["location"], grows, "{c:#}\n{ctx}");
    assert_eq!(c["declared"]["location"], declared, "{c:#}");
    assert!(
        c["sentence"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("the line to change is {grows}"))),
        "{c:#}"
    );
    assert!(!c.to_string().contains("dist/app.js"), "{c:#}");
    let shown = r["source_excerpts"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["location"] == grows))
        .unwrap_or_else(|| panic!("no excerpt at {grows}: {:#}", r["source_excerpts"]));
    assert!(
        shown["lines"].to_string().contains("history.set("),
        "{shown:#}"
    );
}

/// The flame graph's frames (JSON `alloc_trees` and the HTML report's frame titles) name
/// `makeQuote` at its `.ts` line and never the bundle.
fn ts_flame(r: &Value, json: &Path, ts: u64) {
    let want = format!("src/quotes.ts:{ts}");
    for view in ["all", "survivors"] {
        let nodes = r["alloc_trees"][view]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("no {view} tree: {:#}", r["alloc_trees"]));
        assert!(
            nodes
                .iter()
                .any(|n| n["function"] == "makeQuote" && n["location"] == want.as_str()),
            "{view}: {nodes:#?}"
        );
        assert!(
            !nodes
                .iter()
                .any(|n| n["location"].as_str().unwrap_or("").contains("dist/app.js")),
            "{view}: {nodes:#?}"
        );
    }
    let html = json.with_extension("html");
    let out = leakhound()
        .current_dir(app_dir())
        .arg("report")
        .arg(json)
        .arg("-o")
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    let flame = &page[page.find("<svg class=\"flame\"").expect("a flame graph")..];
    assert!(flame.contains(&want), "the flame graph names {want}");
    assert!(
        !flame.contains("dist/app.js"),
        "the flame graph names the bundle"
    );
}

/// tsx 4 installed from the npm registry into the target directory (once; later runs reuse
/// it). Panics with npm's output when the registry cannot be reached.
fn tsx_loader() -> PathBuf {
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-npm");
    let loader = prefix.join("node_modules/tsx/dist/loader.mjs");
    if !loader.is_file() {
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg("tsx@4")
            .stdin(Stdio::null())
            .output()
            .expect("npm");
        assert!(
            out.status.success() && loader.is_file(),
            "installing tsx failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    loader
}

#[test]
fn tsx_names_the_ts_line_through_its_inline_map() {
    let _lock = serial();
    let loader = format!("file://{}", tsx_loader().display());
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("tsx.json");
    let (out, r) = run(
        &["-c", "4"],
        &json,
        &["node", "--import", &loader, "src/app.ts"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ctx = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{ctx}");
    assert_eq!(r["verdict"], "leak", "{ctx}");
    let ts = line_of("src/quotes.ts", "export function makeQuote(");
    let want = format!("src/quotes.ts:{ts}");
    let survivor = site(&r["alloc_survivors"], "makeQuote");
    assert_eq!(survivor["location"], want.as_str(), "{survivor:#}");
    // tsx's output exists only in memory, under the .ts file's own name.
    let generated = &survivor["generated"];
    assert_eq!(generated["file"], "src/quotes.ts", "{survivor:#}");
    assert_ne!(generated["line"], ts, "{survivor:#}");
    assert!(
        stdout.contains(&format!("makeQuote  {want}")),
        "the terminal shows the .ts line: {ctx}"
    );
    // tsx's map exists only in memory: the culprit and the flame graph are mapped with it.
    let grows = format!("src/quotes.ts:{}", line_of("src/quotes.ts", "history.set("));
    let declared = format!(
        "src/quotes.ts:{}",
        line_of("src/quotes.ts", "const history = new Map")
    );
    ts_culprit(&r, &grows, &declared, &ctx);
    ts_flame(&r, &json, ts);
}
