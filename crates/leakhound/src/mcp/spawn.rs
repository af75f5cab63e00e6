//! Run `leakhound <args> --json -` as a child and collect its document, reporting progress
//! while it runs.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

/// What one run of the binary gave.
pub struct Ran {
    pub code: Option<i32>,
    /// The parsed `--json -` document, when stdout held one.
    pub doc: Option<Value>,
    /// The child's human text (stderr), last lines only.
    pub stderr_tail: Vec<String>,
}

impl Ran {
    /// The one-line reason of a failure: leakhound's own `leakhound: error:` line, else the
    /// document's `reason`, else the last line of stderr.
    pub fn message(&self) -> String {
        if let Some(l) = self
            .stderr_tail
            .iter()
            .rev()
            .find(|l| l.starts_with("leakhound: error:"))
        {
            return l.clone();
        }
        if let Some(r) = self
            .doc
            .as_ref()
            .and_then(|d| d.get("reason").or_else(|| d.get("target_failed")))
            .and_then(Value::as_str)
        {
            return r.to_string();
        }
        self.stderr_tail.last().cloned().unwrap_or_default()
    }
}

/// Ends the child when the call is dropped before it finished (the client cancelled the
/// request, or the server is shutting down). SIGTERM, not SIGKILL: `leakhound run` then ends
/// its target and exits 130 with its partial report; after a SIGKILL only its watchdog would
/// end the target, and nothing would be written.
struct StopOnDrop(Option<u32>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.signal();
    }
}

impl StopOnDrop {
    /// SIGTERM to the child, while it has not been reaped.
    fn signal(&self) {
        if let Some(pid) = self.0 {
            // SAFETY: signalling the child this call spawned; once it has been reaped (the
            // call finished) `disarm` cleared the pid, so no other process is signalled.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

/// How many stderr lines are kept for the message.
const TAIL: usize = 20;

/// Run `exe args --json -` (`--json -` goes before a `--`, after which the target's command
/// starts); `progress` is called about every second with the seconds elapsed
/// and the child's last stderr line; when `cancel` completes the child gets SIGTERM (it then
/// ends its target and writes what it has, as after Ctrl-C).
pub async fn run_json<F, Fut>(
    exe: &Path,
    args: &[String],
    mut progress: F,
    cancel: impl std::future::Future<Output = ()>,
) -> std::io::Result<Ran>
where
    F: FnMut(f64, Option<String>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let mut child = Command::new(exe)
        .args(&args[..at])
        .args(["--json", "-"])
        .args(&args[at..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stop = StopOnDrop(child.id());
    let mut stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let out_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).await.map(|_| buf)
    });
    let mut lines = BufReader::new(stderr).lines();
    let mut tail: Vec<String> = Vec::new();
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut stderr_open = true;
    let mut cancel = std::pin::pin!(cancel);
    let mut cancelled = false;
    while stderr_open {
        tokio::select! {
            () = &mut cancel, if !cancelled => {
                cancelled = true;
                stop.signal();
            }
            line = lines.next_line() => match line {
                Ok(Some(l)) => {
                    let l = l.trim_end().to_string();
                    if !l.trim().is_empty() {
                        tail.push(l);
                        if tail.len() > TAIL {
                            tail.remove(0);
                        }
                    }
                }
                _ => stderr_open = false,
            },
            _ = tick.tick() => {
                progress(start.elapsed().as_secs_f64(), tail.last().cloned()).await;
            }
        }
    }
    let status = child.wait().await;
    stop.disarm();
    let status = status?;
    let stdout = out_task.await.map_err(std::io::Error::other)??;
    let doc = serde_json::from_slice::<Value>(&stdout)
        .ok()
        .filter(Value::is_object);
    Ok(Ran {
        code: status.code(),
        doc,
        stderr_tail: tail,
    })
}
