//! The target process: started with leakhound's Node flags in its own process group, its
//! output captured, and always torn down (SIGTERM to the group, then SIGKILL).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::gclog::GcTally;

/// Lines of the app's own output kept for the report when something fails.
const TAIL: usize = 30;

/// A `[MEM] label: N MB` line, as the seed's services print them.
#[derive(Debug, Clone, PartialEq)]
pub struct MemLine {
    pub label: String,
    pub mb: f64,
}

/// Parse the seed's `[MEM] label: N MB` convention.
pub fn parse_mem_line(line: &str) -> Option<MemLine> {
    let rest = &line[line.find("[MEM]")? + 5..];
    let (label, value) = rest.rsplit_once(':')?;
    let num = value.trim().strip_suffix("MB")?.trim();
    Some(MemLine {
        label: label.trim().to_string(),
        mb: num.parse().ok()?,
    })
}

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
    /// The OOM banner's lines (`<--- Last few GCs --->` onward).
    pub oom_lines: Vec<String>,
    /// The target finished and waits for the inspector client to go.
    pub waiting_for_debugger: bool,
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
}

/// The `NODE_OPTIONS` leakhound gives the target: the user's own first, then ours.
pub fn node_options(user: Option<&str>, heap_mb: u64, preload: &std::path::Path) -> String {
    let mut v = String::new();
    if let Some(u) = user.map(str::trim).filter(|u| !u.is_empty()) {
        v.push_str(u);
        v.push(' ');
    }
    v.push_str(&format!(
        "--max-old-space-size={heap_mb} --inspect=127.0.0.1:0 --require \"{}\"",
        preload.display()
    ));
    v
}

/// `--trace-gc` is refused in NODE_OPTIONS (exit 9), so a preload turns it on.
const PRELOAD: &str = "require('v8').setFlagsFromString('--trace-gc');\n";

impl Target {
    pub fn spawn(spec: &TargetSpec) -> anyhow::Result<Target> {
        let (prog, args) = spec
            .command
            .split_first()
            .context("no command given after --")?;
        let dir = tempfile::Builder::new()
            .prefix("leakhound-")
            .tempdir()
            .context("creating a temporary directory")?;
        let preload: PathBuf = dir.path().join("trace-gc-preload.js");
        std::fs::write(&preload, PRELOAD).context("writing the GC-trace preload")?;
        let user = std::env::var("NODE_OPTIONS").ok();
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .env(
                "NODE_OPTIONS",
                node_options(user.as_deref(), spec.heap_mb, &preload),
            )
            .env("PORT", spec.port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start `{prog}`"))?;
        let pid = child.id().context("the target exited at once")?;
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
            if line.contains("<--- Last few GCs --->") {
                c.oom_lines.clear();
                c.oom_lines.push(line.to_string());
            } else if !c.oom_lines.is_empty() && c.oom_lines.len() < 40 {
                c.oom_lines.push(line.to_string());
            }
            if line.contains("JavaScript heap out of memory") {
                c.oom = true;
            }
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
    news.notify_waiters();
}

/// The PID of the process listening on 127.0.0.1:`port` (or any address), from
/// /proc/net/tcp{,6} inodes matched against /proc/<pid>/fd.
pub fn port_owner(port: u16) -> Option<u32> {
    let mut inodes = Vec::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for l in text.lines().skip(1) {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != "0A" {
                continue;
            }
            let lport = cols[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if lport == Some(port) {
                inodes.push(format!("socket:[{}]", cols[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path()) {
                if inodes.iter().any(|i| link.as_os_str() == i.as_str()) {
                    return Some(pid);
                }
            }
        }
    }
    None
}

/// Resident set size of `pid` in bytes (VmRSS), 0 when unknown.
pub fn rss_bytes(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb * 1024.0)
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
            64,
            std::path::Path::new("/tmp/x/p.js"),
        );
        assert_eq!(
            o,
            "--enable-source-maps --max-old-space-size=64 --inspect=127.0.0.1:0 --require \"/tmp/x/p.js\""
        );
        assert!(node_options(None, 128, std::path::Path::new("/p.js")).starts_with("--max-old"));
    }

    #[test]
    fn finds_the_owner_of_a_listening_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(port_owner(port), Some(std::process::id()));
        assert!(rss_bytes(std::process::id()) > 0.0);
    }
}
