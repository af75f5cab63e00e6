//! Entry points teams really use: a `tsc` build with `.map` files (`node dist/app.js`),
//! `npx tsx src/app.ts`, `pnpm start` and `yarn start`. Each must find the leak in the process
//! that serves, call the package managers' own node processes wrappers, and name the leak at
//! its TypeScript line where the service is TypeScript.
//!
//! The tools come from the npm registry, installed once into the test target directory
//! (`typescript`, `@types/node`, `tsx`, `pnpm`, `yarn`); a registry that cannot be reached
//! fails the test with npm's output rather than skipping it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::serial;
use serde_json::Value;

fn servers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers")
}

/// The npm prefix holding the tools, installed on first use.
fn tools() -> PathBuf {
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("entry-npm");
    let bins = ["tsc", "tsx", "pnpm", "yarn"];
    if !bins
        .iter()
        .all(|b| prefix.join("node_modules/.bin").join(b).exists())
    {
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .args([
                "typescript@5",
                "@types/node@20",
                "tsx@4",
                "pnpm@9",
                "yarn@1",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("npm");
        assert!(
            out.status.success(),
            "installing the entry-point tools failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    prefix
}

fn bin(name: &str) -> PathBuf {
    tools().join("node_modules/.bin").join(name)
}

/// Copy a directory tree (the fixtures are small).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// 1-based line of the first line of `file` (under `dir`) containing `needle`.
fn line_of(dir: &Path, file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}")) as u64
        + 1
}

/// `leakhound run --json … -- COMMAND` in `dir`: exit code, JSON, output.
fn run(dir: &Path, args: &[&str], envs: &[(&str, &str)], command: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["--max-duration", "45s", "-c", "4"];
    all.extend_from_slice(args);
    all.push("--");
    all.extend_from_slice(command);
    let (code, v, text) = common::run_json_in(dir, &all, envs);
    (code.unwrap_or(-1), v, text)
}

fn processes(v: &Value) -> Vec<Value> {
    v["processes"].as_array().cloned().unwrap_or_default()
}

/// The one serving process leaks, the others are wrappers whose command names `tool`, and
/// none outlived the run.
fn one_leaking_server_behind(v: &Value, tool: &str, text: &str) {
    let procs = processes(v);
    let serving: Vec<&Value> = procs.iter().filter(|p| p["serving"] == true).collect();
    assert_eq!(serving.len(), 1, "{:#}\n{text}", v["processes"]);
    assert_eq!(serving[0]["verdict"], "leak", "{:#}", serving[0]);
    assert_eq!(v["target_pid"], serving[0]["pid"], "{text}");
    let wrappers: Vec<&Value> = procs.iter().filter(|p| p["role"] == "wrapper").collect();
    assert!(
        wrappers
            .iter()
            .any(|w| w["command"].to_string().contains(tool)),
        "no {tool} wrapper in {:#}",
        v["processes"]
    );
    for p in &procs {
        let pid = p["pid"].as_i64().unwrap() as i32;
        // SAFETY: signal 0 only probes.
        assert!(
            unsafe { libc::kill(pid, 0) } != 0,
            "pid {pid} outlived the run"
        );
    }
}

fn survivor<'a>(v: &'a Value, function: &str) -> &'a Value {
    v["alloc_survivors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["function"] == function)
        .unwrap_or_else(|| panic!("no {function} among {:#}", v["alloc_survivors"]))
}

#[test]
fn a_tsc_build_with_map_files_names_the_ts_line() {
    let _s = serial();
    let tsc = bin("tsc");
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path();
    copy_dir(&servers().join("ts-app/src"), &app.join("src"));
    let types = tools().join("node_modules/@types");
    let out = Command::new(&tsc)
        .current_dir(app)
        .args([
            "--outDir",
            "dist",
            "--rootDir",
            "src",
            "--sourceMap",
            "--module",
            "commonjs",
            "--target",
            "es2022",
            "--skipLibCheck",
            "--types",
            "node",
            "--typeRoots",
        ])
        .arg(&types)
        .arg("src/app.ts")
        .output()
        .unwrap();
    assert!(
        out.status.success() && app.join("dist/quotes.js.map").is_file(),
        "tsc failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, v, text) = run(app, &[], &[], &["node", "dist/app.js"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    let ts = line_of(app, "src/quotes.ts", "export function makeQuote(");
    let js = line_of(app, "dist/quotes.js", "function makeQuote(");
    assert_ne!(ts, js, "the build must move the line");
    let want = format!("src/quotes.ts:{ts}");
    let s = survivor(&v, "makeQuote");
    assert_eq!(s["location"], want.as_str(), "{s:#}");
    assert_eq!(s["generated"]["file"], "dist/quotes.js", "{s:#}");
    assert_eq!(s["generated"]["line"], js, "{s:#}");
    assert!(text.contains(&format!("makeQuote  {want}")), "{text}");
}

#[test]
fn npx_tsx_is_a_wrapper_and_the_leak_is_named_at_its_ts_line() {
    let _s = serial();
    tools();
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path();
    copy_dir(&servers().join("ts-app/src"), &app.join("src"));
    // `npx tsx` finds tsx in the project's own node_modules, as in a project that depends on it.
    std::os::unix::fs::symlink(tools().join("node_modules"), app.join("node_modules")).unwrap();
    let (code, v, text) = run(app, &[], &[], &["npx", "tsx", "src/app.ts"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    // npx names its process `npm exec tsx src/app.ts`.
    one_leaking_server_behind(&v, "npm exec", &text);
    let ts = line_of(app, "src/quotes.ts", "export function makeQuote(");
    let s = survivor(&v, "makeQuote");
    assert_eq!(
        s["location"],
        format!("src/quotes.ts:{ts}").as_str(),
        "{s:#}"
    );
}

#[test]
fn pnpm_start_and_yarn_start_are_wrappers_of_the_leaking_server() {
    let _s = serial();
    // A copy: neither tool may write a lockfile or a cache into the repository.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    copy_dir(&servers().join("processes"), &dir);
    for tool in ["pnpm", "yarn"] {
        let exe = bin(tool);
        let exe = exe.to_str().unwrap();
        let (code, v, text) = run(
            &dir,
            &["--no-alloc-sites"],
            &[("LEAK", "1")],
            &[exe, "start"],
        );
        assert_eq!(code, 1, "{tool} start: {text}");
        assert_eq!(v["verdict"], "leak", "{tool} start: {text}");
        one_leaking_server_behind(&v, tool, &text);
    }
}
