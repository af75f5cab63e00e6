//! The target process: started with leakhound's Node flags in its own process group, its
//! output captured, and always torn down (SIGTERM to the group, then SIGKILL).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, IoContext};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::gclog::GcTally;
use crate::group_guard::GroupGuard;
use crate::heap_flag::OldSpace;

/// Lines of the app's own output kept for the report when something fails.
const TAIL: usize = 30;

pub use crate::mem_line::{parse_mem_line, MemLine};
use crate::preload::{parse_exit, parse_marker, Exited, Started, PRELOAD};

/// Everything read from the child's stdout and stderr so far.
#[derive(Default)]
pub struct Captured {
    /// The full GC-trace analysis (`leakhound-gctrace`), fed with both streams.
    pub trace: leakhound_gctrace::Analyzer,
    pub stdout_tail: VecDeque<String>,
    pub stderr_tail: VecDeque<String>,
    pub mem_lines: Vec<MemLine>,
    pub gc: GcTally,
    /// The GC events for the report (bounded).
    pub gc_events: crate::gc_events::GcEvents,
    pub banners: Vec<String>,
    pub oom: bool,
    /// Which processes ran out of memory, by the pid V8's trace names.
    pub oom_deaths: crate::oom_deaths::OomDeaths,
    /// The target finished and waits for the inspector client to go.
    pub waiting_for_debugger: bool,
    /// Every Node process of the target, as its preload announced it before any user code,
    /// in start order.
    pub started: Vec<Started>,
    /// Every cluster worker's exit its primary reported, with how many processes had
    /// announced themselves by then (one announced later was started after it).
    pub exits: Vec<(Exited, usize)>,
    /// How many of the two output streams reached their end.
    pub closed_streams: u8,
    pub warnings: Vec<String>, // Node's own (leakhound_patterns::keep_warning)
}

impl Captured {
    /// The heap limit (bytes) `pid` reported, else the last one reported.
    pub fn heap_limit(&self, pid: Option<u32>) -> Option<f64> {
        pid.and_then(|p| self.started.iter().rev().find(|s| s.pid == p))
            .or(self.started.last())
            .map(|s| s.heap_limit)
    }

    /// What the preload of `pid` announced, and its place in start order.
    pub fn announced(&self, pid: u32) -> Option<(usize, &Started)> {
        self.started
            .iter()
            .enumerate()
            .rev()
            .find(|(_, s)| s.pid == pid)
    }
}

fn push_tail(q: &mut VecDeque<String>, line: &str) {
    if q.len() == TAIL {
        q.pop_front();
    }
    q.push_back(line.to_string());
}

/// How to start the target.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub command: Vec<String>,
    pub port: u16,
    pub heap_mb: u64,
    pub verbose: bool,
    /// More `NODE_OPTIONS` flags after ours ([`crate::heap_at_death`]'s).
    pub extra_node_options: String,
}

/// A running target.
pub struct Target {
    child: Child,
    pub pid: u32,
    pgid: i32,
    pub captured: Arc<Mutex<Captured>>,
    /// Signalled on every new inspector banner and when output ends.
    pub news: Arc<Notify>,
    _preload: tempfile::TempDir,
    exit: Option<std::process::ExitStatus>,
    /// The old-space size it runs with: `--heap-mb`, or the user's own flag.
    pub old_space: OldSpace,
    /// Kills the group if leakhound dies without tearing it down; disarmed once `teardown`
    /// leaves no process of the group (dropped after `Drop`'s SIGKILL, it then lets the
    /// group be).
    guard: Option<GroupGuard>,
}

/// The `NODE_OPTIONS` leakhound gives the target: the user's own first, then ours. The heap
/// flag is left out (`heap_mb` None) when the user gave their own: in `NODE_OPTIONS` the last
/// occurrence wins, so adding ours after theirs would silently override it.
pub fn node_options(user: Option<&str>, heap_mb: Option<u64>, preload: &std::path::Path) -> String {
    let mut v = String::new();
    if let Some(u) = user.map(str::trim).filter(|u| !u.is_empty()) {
        v.push_str(u);
        v.push(' ');
    }
    if let Some(mb) = heap_mb {
        v.push_str(&format!("--max-old-space-size={mb} "));
    }
    v.push_str(&format!(
        "--inspect=127.0.0.1:0 --require \"{}\"",
        preload.display()
    ));
    v
}

impl Target {
    pub fn spawn(spec: &TargetSpec) -> crate::error::Result<Target> {
        let (prog, args) = spec
            .command
            .split_first()
            .ok_or_else(|| Error::Invalid("no command given after --".into()))?;
        let dir = tempfile::Builder::new()
            .prefix("leakhound-")
            .tempdir()
            .io_context(|| "creating a temporary directory")?;
        let preload: PathBuf = dir.path().join("trace-gc-preload.js");
        std::fs::write(&preload, PRELOAD).io_context(|| "writing the GC-trace preload")?;
        let user = std::env::var("NODE_OPTIONS").ok();
        let old_space = crate::heap_flag::old_space(&spec.command, user.as_deref(), spec.heap_mb);
        let ours = old_space.ours().then_some(old_space.mb);
        let mut env = node_options(user.as_deref(), ours, &preload);
        if !spec.extra_node_options.is_empty() {
            env = format!("{env} {}", spec.extra_node_options);
        }
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .env("NODE_OPTIONS", env)
            .env("PORT", spec.port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .io_context(|| format!("cannot start `{prog}`"))?;
        let pid = child
            .id()
            .ok_or_else(|| Error::Invalid("the target exited at once".into()))?;
        let captured = Arc::new(Mutex::new(Captured::default()));
        let news = Arc::new(Notify::new());
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        tokio::spawn(read_lines(
            out,
            false,
            spec.verbose,
            captured.clone(),
            news.clone(),
        ));
        tokio::spawn(read_lines(
            err,
            true,
            spec.verbose,
            captured.clone(),
            news.clone(),
        ));
        Ok(Target {
            child,
            pid,
            pgid: pid as i32,
            captured,
            news,
            _preload: dir,
            exit: None,
            old_space,
            guard: GroupGuard::watch(pid),
        })
    }

    /// The exit status, if the target (the process leakhound started) has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// Wait at most `limit` for the target to end.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        if self.exit.is_none() {
            if let Ok(Ok(s)) = tokio::time::timeout(limit, self.child.wait()).await {
                self.exit = Some(s);
            }
        }
        self.exit
    }

    /// SIGTERM to the whole process group, SIGKILL after `grace`. Safe to call twice.
    pub async fn teardown(&mut self, grace: Duration) {
        signal_group(self.pgid, libc::SIGTERM);
        self.wait_exit(grace).await;
        // Grandchildren (npm → node) may outlive the leader: the group gets SIGKILL anyway.
        let deadline = tokio::time::Instant::now() + grace;
        while group_alive(self.pgid) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        signal_group(self.pgid, libc::SIGKILL);
        self.wait_exit(Duration::from_secs(2)).await;
        if let Some(g) = &mut self.guard {
            g.disarm_if_gone();
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // Last line of defence (a panic, an early return): nothing survives leakhound.
        signal_group(self.pgid, libc::SIGKILL);
    }
}

fn signal_group(pgid: i32, sig: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) on a process group we created; ESRCH when it is gone is fine.
        unsafe {
            libc::kill(-pgid, sig);
        }
    }
}

/// Whether any process of the group still exists.
pub fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    pgid > 1 && unsafe { libc::kill(-pgid, 0) } == 0
}

async fn read_lines(
    src: impl AsyncRead + Unpin,
    is_stderr: bool,
    verbose: bool,
    captured: Arc<Mutex<Captured>>,
    news: Arc<Notify>,
) {
    let mut lines = BufReader::new(src).split(b'\n');
    while let Ok(Some(raw)) = lines.next_segment().await {
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches('\r');
        if is_stderr {
            if let Some(started) = parse_marker(line) {
                captured.lock().unwrap().started.push(started);
                continue;
            }
            if let Some(exited) = parse_exit(line) {
                let mut c = captured.lock().unwrap();
                let announced = c.started.len();
                c.exits.push((exited, announced));
                continue;
            }
        }
        if verbose {
            // Not eprintln!: a closed stderr must not panic (the run ends on its next progress line).
            let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("  | {line}\n"));
        }
        let mut c = captured.lock().unwrap();
        c.trace.push_line(line.as_bytes());
        if is_stderr {
            if let Some(url) = leakhound_inspector::parse_banner(line) {
                c.banners.push(url);
                drop(c);
                news.notify_waiters();
                continue;
            }
            if line.starts_with("Waiting for the debugger to disconnect") {
                c.waiting_for_debugger = true;
            }
            let announced = c.started.len();
            c.oom_deaths.push_line(line, announced);
            if line.contains("JavaScript heap out of memory") {
                c.oom = true;
            }
            leakhound_patterns::keep_warning(&mut c.warnings, line);
            if !line.starts_with("Debugger ")
                && !line.starts_with("For help, see:")
                && !line.is_empty()
            {
                push_tail(&mut c.stderr_tail, line);
            }
        } else if c.gc.push(line) {
            c.gc_events.push_line(line);
        } else {
            if let Some(m) = parse_mem_line(line) {
                c.mem_lines.push(m);
            }
            push_tail(&mut c.stdout_tail, line);
        }
    }
    captured.lock().unwrap().closed_streams += 1;
    news.notify_waiters();
}

/// The pid listening on `port`, `None` when unknown (see [`crate::procfs::port_owner`]).
pub fn port_owner(port: u16) -> Option<u32> {
    crate::procfs::port_owner(port).ok().flatten()
}

/// Resident set size of `pid` in bytes, 0 when unknown (see [`crate::procfs::rss_bytes`]).
pub fn rss_bytes(pid: u32) -> f64 {
    crate::procfs::rss_bytes(pid).map_or(0.0, |b| b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_lines_are_recognised() {
        assert_eq!(
            parse_mem_line("[MEM] processData START: 84 MB"),
            Some(MemLine {
                label: "processData START".into(),
                mb: 84.0
            })
        );
        assert_eq!(parse_mem_line("[MEM] x: lots"), None);
        assert_eq!(parse_mem_line("MEM x: 3 MB"), None);
    }

    #[test]
    fn user_node_options_come_first_and_are_kept() {
        let o = node_options(
            Some("--enable-source-maps"),
            Some(64),
            std::path::Path::new("/tmp/x/p.js"),
        );
        assert_eq!(
            o,
            "--enable-source-maps --max-old-space-size=64 --inspect=127.0.0.1:0 --require \"/tmp/x/p.js\""
        );
        assert!(
            node_options(None, Some(128), std::path::Path::new("/p.js")).starts_with("--max-old")
        );
    }

    #[test]
    fn the_users_heap_flag_is_not_overridden() {
        let o = node_options(
            Some("--max-old-space-size=512"),
            None,
            std::path::Path::new("/p.js"),
        );
        assert_eq!(o.matches("--max-old-space-size").count(), 1, "{o}");
        assert!(o.starts_with("--max-old-space-size=512 "), "{o}");
    }

    #[test]
    fn the_heap_limit_is_the_one_a_process_announced() {
        let at = |pid, heap_limit| Started {
            pid,
            heap_limit,
            ppid: None,
            worker: None,
        };
        let c = Captured {
            started: vec![at(1, 10.0), at(2, 20.0)],
            ..Default::default()
        };
        assert_eq!(c.heap_limit(Some(1)), Some(10.0));
        assert_eq!(c.heap_limit(Some(9)), Some(20.0));
        assert_eq!(c.heap_limit(None), Some(20.0));
        assert_eq!(c.announced(2).map(|(i, _)| i), Some(1));
        assert!(c.announced(9).is_none());
    }
}
