//! The npm packages, end to end: `npm/pack.sh` packs this test binary (LEAKHOUND_BIN), the two
//! tarballs are installed into an empty project with no registry access (`npm install
//! --offline`), and there `npx leakhound`, the JS API, the `leakhound/test` assertions and the
//! test-runner examples run against the example servers. The generated TypeScript types are
//! checked against the JSON Schemas they come from.
//!
//! Runs that start servers take the serial lock. Seven `run`s in all (about 10 s each): the
//! CLI on the leaky server, the API on both, node:test on both, Jest and Vitest on the fixed
//! one (those two install their runner from the npm registry into target/npm-examples).

mod common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{kill_group, repo_root, serial};

/// Run `cmd` in its own process group, killed (group-wide) if it outlives `limit`.
fn bounded(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            kill_group(child.id());
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn workspace_version() -> String {
    let toml: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap()).unwrap();
    toml["workspace"]["package"]["version"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `linux-x64` ..., as node names this machine.
fn host_platform() -> String {
    let out = Command::new("node")
        .args(["-p", "process.platform + '-' + process.arch"])
        .output()
        .unwrap();
    text(&out.stdout).trim().to_string()
}

/// The packed tarballs and a project they are installed in, made once per test binary.
struct Installed {
    tarballs: Vec<PathBuf>,
    project: PathBuf,
}

/// target/npm-test, emptied of earlier runs' projects (each holds a 100 MB debug binary).
fn scratch() -> PathBuf {
    let dir = repo_root().join("target/npm-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn installed() -> &'static Installed {
    static ONCE: OnceLock<Installed> = OnceLock::new();
    ONCE.get_or_init(|| {
        let root = repo_root();
        let base = scratch().join(format!("run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let out_dir = base.join("tarballs");
        // The test binary without its debug info (120 MB -> 18 MB): packing, installing and
        // the copies below stay quick and small. Unstripped when `strip` is missing.
        std::fs::create_dir_all(&base).unwrap();
        let bin = base.join("leakhound");
        std::fs::copy(env!("CARGO_BIN_EXE_leakhound"), &bin).unwrap();
        let _ = Command::new("strip").arg(&bin).status();
        let pack = bounded(
            Command::new("bash")
                .arg(root.join("npm/pack.sh"))
                .env("LEAKHOUND_BIN", &bin)
                .env("LEAKHOUND_NPM_OUT", &out_dir),
            Duration::from_secs(180),
        );
        assert!(pack.status.success(), "pack.sh: {}", text(&pack.stderr));
        let mut tarballs: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "tgz"))
            .collect();
        tarballs.sort();
        let version = workspace_version();
        let names: Vec<String> = tarballs
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let platform = host_platform();
        assert_eq!(
            names,
            [
                format!("leakhound-{version}.tgz"),
                format!("leakhound-{platform}-{version}.tgz")
            ],
            "exactly the main and the host's platform package"
        );

        let project = base.join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            project.join("package.json"),
            r#"{"name":"lh-npm-test","version":"1.0.0","private":true}"#,
        )
        .unwrap();
        // --offline: no registry at all. The optional dependencies on the other platforms'
        // packages must not make npm reach for the registry (their os/cpu do not fit).
        let install = bounded(
            Command::new("npm")
                .current_dir(&project)
                .args(["install", "--offline", "--no-audit", "--no-fund"])
                .args(&tarballs)
                .env("npm_config_cache", base.join("npm-cache")),
            Duration::from_secs(180),
        );
        assert!(
            install.status.success(),
            "npm install --offline: {}{}",
            text(&install.stdout),
            text(&install.stderr)
        );
        Installed { tarballs, project }
    })
}

/// `npx leakhound ARGS` in the project.
fn npx(project: &Path, args: &[&str], limit: Duration) -> Output {
    bounded(
        Command::new("npx")
            .current_dir(project)
            .args(["--no-install", "leakhound"])
            .args(args),
        limit,
    )
}

/// `node -e SCRIPT` in the project (so `require('leakhound')` is the installed package).
fn node(project: &Path, script: &str, limit: Duration) -> Output {
    bounded(
        Command::new("node")
            .current_dir(project)
            .args(["-e", script]),
        limit,
    )
}

fn example(name: &str) -> String {
    repo_root()
        .join("examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn npx_prints_the_workspace_version_and_a_missing_platform_package_is_named() {
    let inst = installed();
    let out = npx(&inst.project, &["--version"], Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("leakhound {}", workspace_version())
    );

    // The same project without the platform package: one clear line and exit 2.
    let bare = inst.project.parent().unwrap().join("no-platform");
    let _ = std::fs::remove_dir_all(&bare);
    std::fs::create_dir_all(bare.join("node_modules")).unwrap();
    std::fs::copy(inst.project.join("package.json"), bare.join("package.json")).unwrap();
    for dir in ["node_modules/leakhound", "node_modules/.bin"] {
        let cp = Command::new("cp")
            .arg("-R")
            .arg(inst.project.join(dir))
            .arg(bare.join("node_modules"))
            .status()
            .unwrap();
        assert!(cp.success());
    }
    assert!(!bare.join("node_modules/@leakhound").exists());
    let out = npx(&bare, &["--version"], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let p = host_platform();
    assert_eq!(
        text(&out.stderr).trim(),
        format!(
            "leakhound: no binary for {p}: the optional dependency @leakhound/{p} is not \
             installed (npm install --include=optional, or cargo install leakhound)"
        )
    );
    // The API says the same in its rejection.
    let out = node(
        &bare,
        "require('leakhound').heap.summary('x').then(() => process.exit(9), (e) => { console.log(e.message); process.exit(e.exitCode); })",
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("@leakhound/"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&bare).unwrap();
}

#[test]
fn the_api_rejects_usage_errors_and_failed_targets_with_the_code_and_the_line() {
    let inst = installed();
    let _s = serial(); // one short-lived node target
    let script = r#"
const lh = require('leakhound');
(async () => {
  try { await lh.run({ command: ['node', 'x.js'], json: 'out.json' }); process.exit(10); }
  catch (e) { if (!(e instanceof TypeError) || !/json/.test(e.message)) { console.log('json:', e); process.exit(11); } }
  try { await lh.heap.summary('/no/such/file.heapsnapshot'); process.exit(12); }
  catch (e) {
    if (!(e instanceof lh.LeakhoundError)) { console.log('not a LeakhoundError:', e); process.exit(13); }
    console.log(JSON.stringify({ exitCode: e.exitCode, message: e.message }));
  }
  // A target that exits at once: exit 4, the reason as the message, the partial run/v1.
  try { await lh.run({ command: ['node', '-e', 'process.exit(3)'] }); process.exit(14); }
  catch (e) {
    console.log(JSON.stringify({ exitCode: e.exitCode, message: e.message, verdict: e.result && e.result.verdict }));
  }
})();
"#;
    let out = node(&inst.project, script, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["exitCode"], 2);
    let msg = v["message"].as_str().unwrap();
    assert!(msg.starts_with("leakhound: error:"), "{msg}");
    assert!(msg.contains("/no/such/file.heapsnapshot"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(v["exitCode"], 4, "{v}");
    assert_eq!(v["verdict"], "target-failed", "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("exited before listening"), "{msg}");
}

#[test]
fn npx_run_on_the_leaky_server_exits_1() {
    let inst = installed();
    let _s = serial();
    let out = npx(
        &inst.project,
        &[
            "run",
            "--max-duration",
            "30s",
            "--",
            "node",
            &example("leaky-server.js"),
        ],
        Duration::from_secs(120),
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("LEAK"), "{all}");
}

#[test]
fn the_api_resolves_a_leak_and_a_no_leak_with_their_codes() {
    let inst = installed();
    let _s = serial();
    let script = format!(
        r#"
const {{ run }} = require('leakhound');
(async () => {{
  const out = {{}};
  for (const [name, file] of [['leaky', {leaky:?}], ['fixed', {fixed:?}]]) {{
    const r = await run({{ command: ['node', file], maxDuration: '30s' }});
    out[name] = {{ verdict: r.verdict, exitCode: r.exitCode, schema: r.schema, survivors: (r.alloc_survivors || []).length }};
  }}
  console.log(JSON.stringify(out));
}})().catch((e) => {{ console.error('rejected:', e.message, e.exitCode); process.exit(1); }});
"#,
        leaky = example("leaky-server.js"),
        fixed = example("fixed-server.js"),
    );
    let out = node(&inst.project, &script, Duration::from_secs(200));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["leaky"]["verdict"], "leak", "{v}");
    assert_eq!(v["leaky"]["exitCode"], 1, "{v}");
    assert_eq!(v["leaky"]["schema"], "leakhound.run/v1", "{v}");
    assert_eq!(v["fixed"]["verdict"], "no-leak", "{v}");
    assert_eq!(v["fixed"]["exitCode"], 0, "{v}");
}

/// Copy an example's files (not its node_modules) into `dir`.
fn copy_example(runner: &str, dir: &Path) {
    let src = repo_root().join("examples/test-runners").join(runner);
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn the_node_test_example_passes_on_the_fixed_server_and_names_the_culprit_on_the_leaky_one() {
    let inst = installed();
    let _s = serial();
    // The example's test file, inside the project where leakhound is installed.
    let dir = inst.project.join("node-test");
    copy_example("node-test", &dir);
    let node_test = |server: &str| {
        bounded(
            Command::new("node")
                .current_dir(&dir)
                .args(["--test", "no-leak.test.js"])
                .env("SERVER", server),
            Duration::from_secs(150),
        )
    };
    let ok = node_test(&example("fixed-server.js"));
    assert!(
        ok.status.success(),
        "{}{}",
        text(&ok.stdout),
        text(&ok.stderr)
    );
    assert!(
        text(&ok.stdout).contains("# pass 1"),
        "{}",
        text(&ok.stdout)
    );

    let bad = node_test(&example("leaky-server.js"));
    let report = text(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{report}{}", text(&bad.stderr));
    assert!(report.contains("# fail 1"), "{report}");
    assert!(report.contains("verdict leak"), "{report}");
    assert!(report.contains("evidence:"), "{report}");
    // The culprit: the leaky server's processData (which fills responseCache), with its line.
    assert!(
        report.contains("culprit:") && report.contains("leaky-server.js:"),
        "{report}"
    );
}

/// Install a runner's example (its runner from the npm registry, leakhound from the tarballs)
/// into target/npm-examples/<runner> (kept, so later runs reuse node_modules) and run `npm
/// test` on the fixed server.
fn runner_example(runner: &str) {
    let inst = installed();
    let dir = repo_root().join("target/npm-examples").join(runner);
    copy_example(runner, &dir);
    let install = bounded(
        Command::new("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--no-save"])
            .args(&inst.tarballs)
            .arg(match runner {
                "jest" => "jest@^30",
                _ => "vitest@^3.2.4",
            }),
        Duration::from_secs(300),
    );
    assert!(
        install.status.success(),
        "npm install in {}: {}",
        dir.display(),
        text(&install.stderr)
    );
    let _s = serial();
    let out = bounded(
        Command::new("npm")
            .current_dir(&dir)
            .args(["test", "--silent"])
            .env("SERVER", example("fixed-server.js"))
            .env("CI", "1"),
        Duration::from_secs(150),
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{runner}: {all}");
    assert!(all.contains("1 passed"), "{runner}: {all}");
}

#[test]
fn the_jest_example_passes_on_the_fixed_server() {
    runner_example("jest");
}

#[test]
fn the_vitest_example_passes_on_the_fixed_server() {
    runner_example("vitest");
}

/// The checked-in types are what npm/gen-types.sh makes of docs/schema today, and the
/// package's declarations compile under `tsc --strict` with the documented usage
/// (npm/typecheck.sh). One test, as both scripts install the tools into target/npm-tools.
#[test]
fn the_typescript_types_match_the_json_schemas_and_compile() {
    let root = repo_root();
    let tmp = tempfile::tempdir().unwrap();
    let out = bounded(
        Command::new("bash")
            .arg(root.join("npm/gen-types.sh"))
            .arg(tmp.path()),
        Duration::from_secs(300),
    );
    assert!(out.status.success(), "gen-types.sh: {}", text(&out.stderr));
    let checked_in = root.join("npm/leakhound/types");
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut have: Vec<String> = std::fs::read_dir(&checked_in)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    have.sort();
    assert_eq!(
        names, have,
        "npm/leakhound/types is stale: run `bash npm/gen-types.sh`"
    );
    assert!(names.contains(&"run.d.ts".to_string()), "{names:?}");
    for n in names {
        let fresh = std::fs::read_to_string(tmp.path().join(&n)).unwrap();
        let old = std::fs::read_to_string(checked_in.join(&n)).unwrap();
        assert!(
            fresh == old,
            "npm/leakhound/types/{n} differs from docs/schema: run `bash npm/gen-types.sh`"
        );
    }
    let tsc = bounded(
        Command::new("bash").arg(root.join("npm/typecheck.sh")),
        Duration::from_secs(300),
    );
    assert!(
        tsc.status.success(),
        "tsc --strict on the package's types: {}{}",
        text(&tsc.stdout),
        text(&tsc.stderr)
    );
}

/// The launcher forwards SIGTERM: `gc --follow` never ends by itself, so the launcher ends only
/// if the binary got the signal (it then prints its summary and exits with its code, or, had
/// the signal come before its handler was up, dies of it, and the launcher re-raises it).
#[test]
fn the_launcher_forwards_sigterm_and_ends_with_the_binary() {
    use std::os::unix::process::ExitStatusExt;
    let inst = installed();
    let log = repo_root().join("tests/fixtures/gc-traces/node20-steady.log");
    let mut child = Command::new(inst.project.join("node_modules/.bin/leakhound"))
        .args(["gc", "--follow"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    // The first status line means the binary has read the log and is following it.
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut err, &mut first).unwrap();
    assert!(!first.is_empty(), "no status line from gc --follow");
    // SAFETY: signalling the launcher we started (not its group).
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            kill_group(child.id());
            let _ = child.wait();
            panic!("the launcher did not end after SIGTERM (not forwarded?)");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    match status.code() {
        Some(code) => {
            assert!([0, 1, 3].contains(&code), "exit {code}: {out}");
            assert!(!out.trim().is_empty(), "gc printed no summary");
        }
        None => assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}"),
    }
}

/// The package's own JS unit tests (option mapping, the assertion message, the missing-package
/// message), with no binary and no install.
#[test]
fn the_js_unit_tests_pass() {
    let out = bounded(
        Command::new("node")
            .current_dir(repo_root())
            .args(["--test", "npm/tests/"])
            .env_remove("LEAKHOUND_BINARY"),
        Duration::from_secs(60),
    );
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    assert!(report.contains("# fail 0"), "{report}");
}
