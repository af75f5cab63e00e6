//! Helpers shared by the integration tests: a cross-process serial lock (the machine has two
//! cores, so tests that start servers and drive load must not overlap), free ports, and Node
//! servers that are always killed, even when a test panics.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Held for the length of a test that starts processes or drives load. It is an `flock`, so it
/// serialises across test binaries and threads alike, and the kernel drops it if a test dies.
pub struct Serial(File);

pub fn serial() -> Serial {
    let path = std::env::temp_dir().join("leakhound-serial-tests.lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("open serial lock");
    // SAFETY: flock on a descriptor we own; blocks until the other test releases it.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock failed");
    Serial(f)
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The `leakhound` binary built for these tests.
pub fn leakhound() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakhound"))
}

/// The stderr lines of a running child, read as they come.
pub type StderrLines = std::io::Lines<std::io::BufReader<std::process::ChildStderr>>;

/// `leakhound ARGS` from the repository root with its stderr read line by line as it runs
/// (stdin and stdout closed): for tests that act on a run part-way through.
pub fn leakhound_watched(args: &[&std::ffi::OsStr]) -> (Child, StderrLines) {
    use std::io::BufRead;
    let mut child = leakhound()
        .current_dir(repo_root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    (child, lines)
}

/// A Node process in its own process group, killed (group-wide) on drop.
pub struct NodeServer {
    pub child: Child,
    pub port: u16,
}

impl NodeServer {
    /// Start `node <script>` with `PORT` set and wait until the port accepts connections.
    pub fn start(script: &Path, envs: &[(&str, &str)]) -> NodeServer {
        let port = free_port();
        let mut cmd = Command::new("node");
        cmd.arg(script)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn node");
        let server = NodeServer { child, port };
        server.wait_listening(Duration::from_secs(15));
        server
    }

    fn wait_listening(&self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "node server did not listen on {} within {limit:?}",
            self.port
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Kill the whole process group now (used to simulate a crash mid-run).
    pub fn kill(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn kill_group(pid: u32) {
    // SAFETY: signalling a process group we created; errors (already gone) are ignored.
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

/// Run chromium headless with a hard deadline; its whole process group dies on timeout.
pub fn chromium(args: &[String]) -> std::process::Output {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start chromium");
    // Drain both pipes while it runs: a DOM over the pipe's 64 KB would block chromium forever.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                use std::io::Read;
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_t = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let err_t = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            kill_group(child.id());
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_group(child.id());
    let status = child.wait().unwrap();
    std::process::Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// `leakhound run --json FILE ARGS` in the repository root, without the caller's
/// `NODE_OPTIONS` (a test sets its own through `envs`): the exit code, the JSON document (null
/// when none was written) and stdout + stderr.
pub fn run_json(args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, serde_json::Value, String) {
    run_json_in(&repo_root(), args, envs)
}

/// [`run_json`] in the directory `cwd` (a fixture's own directory: `npm start` reads its
/// `package.json` there). npm's update notice and funding lines are turned off.
pub fn run_json_in(
    cwd: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut cmd = leakhound();
    cmd.arg("run").arg("--json").arg(&json);
    cmd.args(args).stdin(Stdio::null()).current_dir(cwd);
    cmd.env_remove("NODE_OPTIONS")
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (out.status.code(), v, text)
}

/// Send SIGINT (Ctrl-C) to `child` and wait for it to exit, failing the test with `what` when
/// it has not after `limit`.
pub fn interrupt_and_wait(
    child: &mut Child,
    limit: Duration,
    what: &str,
) -> std::process::ExitStatus {
    // SAFETY: SIGINT to a process the test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t0 = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(t0.elapsed() < limit, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The three snapshots tests/servers/heap_inspect.js writes into `dir` (collections that grow,
/// duplicated strings, listeners): `s1`, `s2`, `s3`.
pub fn inspect_snapshots(dir: &Path) -> Vec<PathBuf> {
    let st = Command::new("node")
        .arg(repo_root().join("crates/leakhound/tests/servers/heap_inspect.js"))
        .arg(dir)
        .status()
        .unwrap();
    assert!(st.success());
    (1..=3)
        .map(|i| dir.join(format!("s{i}.heapsnapshot")))
        .collect()
}
