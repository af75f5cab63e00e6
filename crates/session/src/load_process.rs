//! The `--load-cmd` process: started through `sh -c` in its own process group (so a k6, a
//! shell pipeline or a node script and everything they start go together), its stdout read for
//! `leakhound:count N` lines (cumulative units of work), its last output lines kept for the
//! reason of a failed run, and its whole group ended on every exit path: [`LoadProcess::stop`]
//! on the normal paths, `Drop` when the run's future is dropped (Ctrl-C, an error).

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::group_guard::GroupGuard;

/// Output lines kept for the reason of a failed run.
const TAIL: usize = 12;

#[derive(Default)]
struct Output {
    /// The last `leakhound:count N` seen.
    count: Option<u64>,
    tail: VecDeque<String>,
}

/// The running command.
pub(crate) struct LoadProcess {
    child: Child,
    pub(crate) pid: u32,
    out: Arc<Mutex<Output>>,
    readers: Vec<JoinHandle<()>>,
    exited: Option<ExitStatus>,
    stopped: bool,
    /// Kills the group if leakhound dies without ending it ([`GroupGuard`]).
    guard: Option<GroupGuard>,
}

/// `leakhound:count N` → N (surrounding spaces allowed; anything else is output).
pub(crate) fn parse_count(line: &str) -> Option<u64> {
    line.trim()
        .strip_prefix("leakhound:count")?
        .trim()
        .parse()
        .ok()
}

impl LoadProcess {
    /// Start `sh -c CMD` with `PORT`, `URL` and `LEAKHOUND=1` in its environment.
    pub(crate) fn spawn(cmd: &str, port: u16, verbose: bool) -> std::io::Result<Self> {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(cmd)
            .env("PORT", port.to_string())
            .env("URL", format!("http://127.0.0.1:{port}"))
            .env("LEAKHOUND", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = c.spawn()?;
        let pid = child.id().unwrap_or(0);
        let out = Arc::new(Mutex::new(Output::default()));
        let mut readers = Vec::new();
        if let Some(s) = child.stdout.take() {
            readers.push(read_lines(s, out.clone(), verbose));
        }
        if let Some(s) = child.stderr.take() {
            readers.push(read_lines(s, out.clone(), verbose));
        }
        Ok(LoadProcess {
            child,
            pid,
            out,
            readers,
            exited: None,
            stopped: false,
            guard: GroupGuard::watch(pid),
        })
    }

    /// The cumulative work count it reported last, if it reports one.
    pub(crate) fn count(&self) -> Option<u64> {
        self.out.lock().unwrap().count
    }

    /// Its last output lines (stdout and stderr, count lines excluded).
    pub(crate) fn tail(&self) -> Vec<String> {
        self.out.lock().unwrap().tail.iter().cloned().collect()
    }

    /// Wait for the command (the shell) to exit. Cancel-safe.
    pub(crate) async fn wait(&mut self) -> ExitStatus {
        if let Some(s) = self.exited {
            return s;
        }
        let s = self
            .child
            .wait()
            .await
            .unwrap_or_else(|_| ExitStatus::from_raw(0));
        self.exited = Some(s);
        // Let the readers drain what it printed last (bounded: a grandchild may hold the pipe).
        for r in &mut self.readers {
            let _ = tokio::time::timeout(Duration::from_millis(300), r).await;
        }
        if let Some(g) = &mut self.guard {
            g.disarm_if_gone();
        }
        s
    }

    /// End the whole process group: SIGTERM, then SIGKILL after `grace` if any member is left.
    pub(crate) async fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        signal_group(self.pid, libc::SIGTERM);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            if self.exited.is_none() {
                if let Ok(Some(s)) = self.child.try_wait() {
                    self.exited = Some(s);
                }
            }
            if self.exited.is_some() && !group_alive(self.pid) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                signal_group(self.pid, libc::SIGKILL);
                let _ = tokio::time::timeout(Duration::from_secs(1), self.child.wait()).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.stopped = true;
        for r in &self.readers {
            r.abort();
        }
        if let Some(g) = &mut self.guard {
            g.disarm_if_gone();
        }
    }
}

impl Drop for LoadProcess {
    /// The run's future was dropped (Ctrl-C, an error): no time to be polite, SIGTERM and a
    /// short grace, then SIGKILL, so no part of the command outlives leakhound.
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        signal_group(self.pid, libc::SIGTERM);
        for _ in 0..20 {
            let _ = self.child.try_wait();
            if !group_alive(self.pid) {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        signal_group(self.pid, libc::SIGKILL);
        let _ = self.child.try_wait();
        for r in &self.readers {
            r.abort();
        }
    }
}

fn signal_group(pgid: u32, sig: i32) {
    if pgid > 1 {
        // SAFETY: a signal to the process group we created for the command (pgid = its pid).
        unsafe { libc::kill(-(pgid as i32), sig) };
    }
}

/// Does any process of the group still run? (Zombies waiting for their parent do not count.)
fn group_alive(pgid: u32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        // SAFETY: signal 0 only probes the group.
        return unsafe { libc::kill(-(pgid as i32), 0) } == 0;
    };
    dir.flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid pgrp ...: the fields after the command's closing parenthesis.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        f.len() > 2 && f[0] != "Z" && f[2] == pgid.to_string()
    })
}

fn read_lines(
    s: impl AsyncRead + Unpin + Send + 'static,
    out: Arc<Mutex<Output>>,
    verbose: bool,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(s).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            if verbose {
                eprintln!("[load-cmd] {l}");
            }
            let mut o = out.lock().unwrap();
            if let Some(n) = parse_count(&l) {
                o.count = Some(n);
                continue;
            }
            if o.tail.len() == TAIL {
                o.tail.pop_front();
            }
            o.tail.push_back(l);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_count;

    #[test]
    fn count_lines_are_read_and_other_lines_are_not() {
        assert_eq!(parse_count("leakhound:count 1200"), Some(1200));
        assert_eq!(parse_count("  leakhound:count   7 \r"), Some(7));
        assert_eq!(parse_count("leakhound:count x"), None);
        assert_eq!(parse_count("count 5"), None);
    }
}
