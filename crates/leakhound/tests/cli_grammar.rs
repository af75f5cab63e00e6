//! One grammar for the command line (issue 10): `--json FILE|-` on every command, outputs
//! checked before any work, never one of the inputs, a closed pipe never a panic nor an orphan,
//! errors that name what is missing, sizes and percents as users write them, and the load
//! options `load` and `run` share. Real binary, real files, real node where it matters.

mod common;
mod load_util;

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, leakhound, repo_root, serial, NodeServer};
use leakhound_report::run_schema::{RunReport, SCHEMA};
use load_util::{run_within, server_script, stats};
use serde_json::Value;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn gc_fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/gc-traces").join(name)
}

fn heapprofile() -> PathBuf {
    repo_root().join("tests/fixtures/heapprofile/node26-heap-prof.heapprofile")
}

/// A heap snapshot of known content, written by node (`tests/servers/heap_known.js`).
fn snapshot(dir: &Path, name: &str) -> PathBuf {
    snapshot_by(dir, name, "heap_known.js")
}

/// A heap snapshot written by `tests/servers/<script>`.
fn snapshot_by(dir: &Path, name: &str, script: &str) -> PathBuf {
    let p = dir.join(name);
    let st = Command::new("node")
        .arg(server_script(script))
        .arg(&p)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success() && p.exists());
    p
}

/// A usage error: exit 2 and one line on stderr holding `needle`.
fn assert_usage_error(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("leakhound: error: "), "{err}");
    assert!(err.contains(needle), "want {needle:?} in {err}");
}

/// Stdout as JSON of schema `schema`, failing with both streams shown.
fn stdout_json(out: &Output, schema: &str) -> Value {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    assert_eq!(v["schema"], schema, "{v:#}");
    v
}

/// A pipe whose reading end is already closed: every write to it is EPIPE, as after
/// `| head` has read what it wanted and gone.
fn closed_pipe() -> Stdio {
    let mut fds = [0i32; 2];
    // SAFETY: pipe(2) fills two fresh descriptors that we own from here on.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fds[0] and fds[1] are open and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

/// Processes whose command line mentions `needle` (a unique script path).
fn processes_with(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // A zombie (state Z) is already dead; only a live process is an orphan.
            let zombie = stat
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'));
            if !zombie && text(&cmd).contains(needle) {
                found.push(pid);
            }
        }
    }
    found
}

/// A node script in a fresh directory that writes `started` next to itself, then serves.
fn marker_server(dir: &Path) -> (PathBuf, PathBuf) {
    let script = dir.join("marker-server.js");
    let marker = dir.join("started");
    std::fs::write(
        &script,
        format!(
            "require('fs').writeFileSync({:?}, 'x');\n\
             require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
            marker.to_str().unwrap()
        ),
    )
    .unwrap();
    (script, marker)
}

// ---- outputs are opened before any work ----

#[test]
fn a_bad_output_path_is_exit_2_before_the_target_starts() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let (script, marker) = marker_server(dir.path());
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let bad_dir = file.join("sub");
    let cases: [(&str, &Path, &str); 4] = [
        (
            "--report",
            Path::new("/no/such/dir/r.html"),
            "/no/such/dir/r.html",
        ),
        (
            "--json",
            Path::new("/no/such/dir/r.json"),
            "/no/such/dir/r.json",
        ),
        ("--markdown", dir.path(), "is a directory"),
        ("--profile-dir", &bad_dir, "a-file/sub"),
    ];
    for (flag, path, needle) in cases {
        let started = Instant::now();
        let mut cmd = leakhound();
        cmd.arg("run")
            .arg(flag)
            .arg(path)
            .args(["--max-duration", "60s", "--"])
            .arg("node")
            .arg(&script);
        let (out, _) = run_within(cmd, Duration::from_secs(20));
        assert_usage_error(&out, needle);
        assert!(out.stderr.starts_with(b"leakhound: error: "), "{flag}");
        assert!(text(&out.stderr).contains(flag), "{}", text(&out.stderr));
        // The target never started: no marker, and no 60 s run.
        assert!(!marker.exists(), "{flag}: the target was started");
        assert!(started.elapsed() < Duration::from_secs(5), "{flag}");
    }
}

#[test]
fn outputs_accept_dev_null_and_are_truncated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("gc.json");
    std::fs::write(&json, "x".repeat(1_000_000)).unwrap();
    let out = leakhound()
        .args(["gc", "--json"])
        .arg(&json)
        .arg(gc_fixture("node25-steady.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["schema"], "leakhound.gc/v1");
    // With --json FILE the summary still goes to stdout.
    assert!(
        text(&out.stdout).contains("verdict:"),
        "{}",
        text(&out.stdout)
    );
    let out = leakhound()
        .args(["alloc", "--json", "/dev/null"])
        .arg(heapprofile())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn an_output_may_not_be_an_input() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    std::fs::copy(gc_fixture("node25-steady.log"), &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    let out = leakhound()
        .arg("gc")
        .arg(&log)
        .arg("--json")
        .arg(&log)
        .output()
        .unwrap();
    assert_usage_error(&out, "input");
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the log was overwritten"
    );

    let a = snapshot(dir.path(), "a.heapsnapshot");
    let a_bytes = std::fs::metadata(&a).unwrap().len();
    // The same file under another name (relative, through `.`) is still the input.
    let out = leakhound()
        .current_dir(dir.path())
        .args([
            "heap",
            "diff",
            "a.heapsnapshot",
            "a.heapsnapshot",
            "--json",
            "./a.heapsnapshot",
        ])
        .output()
        .unwrap();
    assert_usage_error(&out, "input");
    assert_eq!(std::fs::metadata(&a).unwrap().len(), a_bytes);

    // An input that does not exist yet is not created empty by its output either.
    let missing = dir.path().join("missing.heapsnapshot");
    let out = leakhound()
        .args(["heap", "summary"])
        .arg(&missing)
        .arg("--json")
        .arg(&missing)
        .output()
        .unwrap();
    assert_usage_error(&out, "input");
    assert!(!missing.exists());

    let run = dir.path().join("run.json");
    std::fs::write(&run, serde_json::to_vec(&minimal_run()).unwrap()).unwrap();
    let out = leakhound()
        .arg("report")
        .arg(&run)
        .arg("--markdown")
        .arg(&run)
        .output()
        .unwrap();
    assert_usage_error(&out, "input");
    let out = leakhound()
        .arg("compare")
        .arg(&run)
        .arg(&run)
        .arg("--json")
        .arg(&run)
        .output()
        .unwrap();
    assert_usage_error(&out, "input");
    assert!(serde_json::from_slice::<Value>(&std::fs::read(&run).unwrap()).is_ok());
}

// ---- `--json -` on every command ----

fn minimal_run() -> RunReport {
    RunReport {
        schema: SCHEMA.into(),
        ..RunReport::default()
    }
}

#[test]
fn json_dash_goes_to_stdout_and_the_text_to_stderr_on_every_file_command() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let check = |args: &[&std::ffi::OsStr], schema: &str, code: i32, human: &str| {
        let out = leakhound()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        stdout_json(&out, schema);
        assert!(
            text(&out.stderr).contains(human),
            "{args:?}: want {human:?} on stderr: {}",
            text(&out.stderr)
        );
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let gc = gc_fixture("node22-leak-oom.log").into_os_string();
    check(
        &[&os("gc"), &os("--json"), &os("-"), &gc],
        "leakhound.gc/v1",
        1,
        "verdict: LEAK",
    );
    let profile = heapprofile().into_os_string();
    check(
        &[&os("alloc"), &os("--json"), &os("-"), &profile],
        "leakhound.alloc/v1",
        0,
        "Top allocating code",
    );
    let s = snapshot(dir.path(), "s.heapsnapshot").into_os_string();
    check(
        &[&os("heap"), &os("summary"), &os("--json"), &os("-"), &s],
        "leakhound.heap.summary/v1",
        0,
        "top classes by retained size",
    );
    check(
        &[&os("heap"), &os("diff"), &os("--json"), &os("-"), &s, &s],
        "leakhound.heap.diff/v1",
        0,
        "class",
    );
    // The same snapshot three times: nothing allocated in between, no leak, exit 0.
    check(
        &[
            &os("heap"),
            &os("leaks"),
            &os("--json"),
            &os("-"),
            &s,
            &s,
            &s,
        ],
        "leakhound.heap.leaks/v1",
        0,
        "no significant leak",
    );
    let run = dir.path().join("run.json");
    std::fs::write(&run, serde_json::to_vec(&minimal_run()).unwrap()).unwrap();
    let run = run.into_os_string();
    let out = leakhound()
        .args([&os("compare"), &run, &run, &os("--json"), &os("-")])
        .output()
        .unwrap();
    stdout_json(&out, "leakhound.compare/v1");
    assert!(
        text(&out.stderr).contains("verdict:"),
        "{}",
        text(&out.stderr)
    );
    // Nothing was written under the name `-`.
    assert!(!dir.path().join("-").exists());
}

#[test]
fn load_json_dash_and_the_text_summary_on_stderr() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    let mut cmd = leakhound();
    cmd.args(["load", "--json", "-", "-n", "20", "-c", "2"])
        .arg(server.url("/"));
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = stdout_json(&out, "leakhound.load/v1");
    assert_eq!(v["successful"], 20);
    assert!(
        text(&out.stderr).contains("Successful: 20"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_json_dash_writes_no_file_named_dash_and_max_gc_share_10_is_ten_percent() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = leakhound();
    cmd.current_dir(dir.path())
        .args([
            "run",
            "--json",
            "-",
            "--max-gc-share",
            "10",
            "--max-duration",
            "8s",
            "--idle",
            "500ms",
            "--",
            "node",
        ])
        .arg(repo_root().join("examples/fixed-server.js"));
    let (out, _) = run_within(cmd, Duration::from_secs(60));
    let err = text(&out.stderr);
    let v = stdout_json(&out, SCHEMA);
    assert!(err.contains("verdict: "), "{err}");
    assert!(!text(&out.stdout).contains("verdict: "));
    // The code follows the verdict, or is 12 only when the 10% budget says so.
    let want = match v["verdict"].as_str().unwrap() {
        "no-leak" => 0,
        "inconclusive" => 3,
        other => panic!("fixed server: {other}\n{err}"),
    };
    let code = out.status.code().unwrap();
    assert!(
        code == want || (code == 12 && err.contains("budget exceeded (exit 12)")),
        "exit {code}: {err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(
        left.is_empty(),
        "files left in the working directory: {left:?}"
    );
}

// ---- a closed pipe ----

#[test]
fn closed_stdout_ends_file_commands_quietly_with_their_code() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path(), "s.heapsnapshot");
    let gc = gc_fixture("node22-leak-oom.log");
    let runs: [(Vec<&std::ffi::OsStr>, i32); 4] = [
        (
            vec![
                "heap".as_ref(),
                "summary".as_ref(),
                "--top".as_ref(),
                "100000".as_ref(),
                snap.as_os_str(),
            ],
            0,
        ),
        (vec!["gc".as_ref(), gc.as_os_str()], 1),
        (
            vec![
                "gc".as_ref(),
                "--json".as_ref(),
                "-".as_ref(),
                gc.as_os_str(),
            ],
            1,
        ),
        (
            vec!["alloc".as_ref(), heapprofile().into_os_string().leak()],
            0,
        ),
    ];
    for (args, code) in runs {
        let out = leakhound()
            .args(&args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.is_empty() || !err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn heap_summary_into_head_2_is_not_a_panic() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    // 5000 classes: the tables are ~500 KB, far more than the pipe holds once head is gone.
    let snap = snapshot_by(dir.path(), "s.heapsnapshot", "many_classes.js");
    let err = dir.path().join("err");
    let script = format!(
        "{:?} heap summary --top 100000 {:?} 2>{:?} | head -2; echo ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_leakhound"),
        snap,
        err
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("heap: "), "{lines:?}");
    assert_eq!(lines[2], "0", "exit status of leakhound");
    let err = std::fs::read_to_string(&err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    // The whole text is far more than a pipe holds, so the pipe was closed under it.
    let full = leakhound()
        .args(["heap", "summary", "--top", "100000"])
        .arg(&snap)
        .output()
        .unwrap();
    assert!(full.stdout.len() > 4 * 65536, "{} bytes", full.stdout.len());
}

#[test]
fn run_into_head_1_stops_the_target_writes_its_files_and_exits_3() {
    let _s = serial();
    let dir = tempfile::tempdir().unwrap();
    // A copy of the leaky server under a unique path, to find any orphan by its command line.
    let script = dir
        .path()
        .join(format!("leaky-{}-pipe.js", std::process::id()));
    std::fs::copy(repo_root().join("examples/leaky-server.js"), &script).unwrap();
    let json = dir.path().join("out.json");
    let md = dir.path().join("out.md");
    let sh = format!(
        "{:?} run --json {:?} --markdown {:?} --max-duration 40s -- node {:?} 2>&1 | head -1; echo ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_leakhound"),
        json,
        md,
        script
    );
    let started = Instant::now();
    let mut cmd = Command::new("bash");
    cmd.current_dir(dir.path()).arg("-c").arg(&sh);
    let (out, _) = run_within(cmd, Duration::from_secs(60));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("leakhound: "), "{lines:?}");
    assert_eq!(lines[1], "3", "exit status of leakhound run: {lines:?}");
    // It stopped at once rather than running to a verdict or to --max-duration.
    assert!(started.elapsed() < Duration::from_secs(30));
    // The files asked for are written, and say the run did not reach a verdict.
    let r: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["schema"], SCHEMA);
    assert_ne!(r["verdict"], "leak");
    assert_ne!(r["verdict"], "no-leak");
    assert!(!std::fs::read_to_string(&md).unwrap().is_empty());
    // No node process is left running the script.
    let needle = script.to_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(&needle).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = processes_with(&needle);
    for pid in &left {
        common::kill_group(*pid);
    }
    assert!(left.is_empty(), "orphaned target processes: {left:?}");
}

// ---- errors that say what to do ----

#[test]
fn missing_arguments_are_named() {
    for (args, needle) in [
        (vec!["heap", "diff", "a.heapsnapshot"], "<B>"),
        (vec!["heap", "leaks", "a", "b"], "<S3>"),
        (vec!["run", "--"], "<COMMAND>"),
        (vec!["alloc"], "<FILE>"),
        (vec!["compare", "before.json"], "<AFTER>"),
    ] {
        let out = leakhound().args(&args).output().unwrap();
        assert_usage_error(&out, needle);
        assert!(text(&out.stderr).contains("not provided"), "{args:?}");
    }
}

#[test]
fn gc_needs_its_file_or_dash_even_with_piped_stdin() {
    let mut child = leakhound()
        .arg("gc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(&std::fs::read(gc_fixture("node25-steady.log")).unwrap());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_usage_error(&out, "<FILE|->");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_command_without_dashes_gets_the_hint() {
    let out = leakhound()
        .args(["run", "-c", "4", "node", "x.js"])
        .output()
        .unwrap();
    assert_usage_error(
        &out,
        "put the command after `--`: leakhound run [options] -- node x.js",
    );
}

#[test]
fn values_are_read_as_users_write_them() {
    // A bare duration needs its unit.
    let out = leakhound()
        .args(["run", "--idle", "2", "--", "node", "x.js"])
        .output()
        .unwrap();
    assert_usage_error(&out, "needs a unit: 2s");
    // 150 is not a percent.
    let out = leakhound()
        .args(["run", "--max-gc-share", "150", "--", "node", "x.js"])
        .output()
        .unwrap();
    assert_usage_error(&out, "between 0% and 100%");
    // Sizes take units: gc's heap limit is 4 GB = 4096 MB.
    let out = leakhound()
        .args(["gc", "--heap-limit", "4GB", "--json", "-"])
        .arg(gc_fixture("node25-steady.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        stdout_json(&out, "leakhound.gc/v1")["heap_limit_mb"],
        4096.0
    );
    let out = leakhound()
        .args(["gc", "--heap-limit", "4 parsecs", "-"])
        .output()
        .unwrap();
    assert_usage_error(&out, "unknown unit");
}

// ---- load and run share their load options ----

#[test]
fn load_takes_path_and_endpoint() {
    let _s = serial();
    let server = NodeServer::start(&server_script("counting-server.js"), &[]);
    // --path replaces the URL's path.
    let mut cmd = leakhound();
    cmd.args(["load", "-n", "7", "-c", "1", "--path", "/replaced"])
        .arg(server.url("/original"));
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let st = stats(server.port);
    assert_eq!(st["by_path"]["/replaced"], 7, "{st}");
    assert!(st["by_path"].get("/original").is_none(), "{st}");

    // --endpoint NAME picks one endpoint of --config.
    let mut cfg = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    write!(
        cfg,
        "[target]\nhost = \"127.0.0.1\"\nport = {}\n\n[endpoints.a]\npath = \"/a\"\n\n[endpoints.b]\npath = \"/b\"\n",
        server.port
    )
    .unwrap();
    let mut cmd = leakhound();
    cmd.args(["load", "-n", "5", "-c", "1", "--endpoint", "b", "--config"])
        .arg(cfg.path());
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let st = stats(server.port);
    assert_eq!(st["by_path"]["/b"], 5, "{st}");
    assert!(st["by_path"].get("/a").is_none(), "{st}");

    // And they are checked as in `run`.
    let out = leakhound()
        .args(["load", "--endpoint", "b"])
        .arg(server.url("/"))
        .output()
        .unwrap();
    assert_usage_error(&out, "--endpoint needs --config");
    let out = leakhound()
        .args(["load", "--path", "/x", "--config"])
        .arg(cfg.path())
        .output()
        .unwrap();
    assert_usage_error(&out, "--path does not apply with --config");
}

#[test]
fn load_against_a_closed_port_reports_no_throughput() {
    let _s = serial();
    let port = free_port();
    let mut cmd = leakhound();
    cmd.args(["load", "-d", "1s", "-c", "2"])
        .arg(format!("http://127.0.0.1:{port}/"));
    let (out, _) = run_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Successful: 0"), "{stdout}");
    assert!(
        stdout.contains("Requests/sec: 0 (no request succeeded)"),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("not a single request succeeded"));
}
