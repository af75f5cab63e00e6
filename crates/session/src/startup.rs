//! The target's start-up, up to the moment it accepts connections: on the port leakhound gave
//! it in `PORT`, or on the one its processes really listen on (an app that ignores `PORT` is
//! common, and 30 silent seconds followed by "did not accept connections" taught nothing).
//! Also tells a start that ran out of memory (a failed target: the heap is too small for the
//! app to even start) from one that died of something else.

use std::net::SocketAddr;
use std::time::Duration;

use leakhound_report::run_schema::RunReport;
use tokio::time::Instant;

use crate::heap_flag::HeapSource;
use crate::procfs::{self, ProcError};
use crate::target::Target;
use crate::verdict::MIB;

/// Where progress lines go (the same shape as `run`'s, spelled out so that this module does
/// not import `run`, which imports it).
type Progress<'a> = &'a mut (dyn FnMut(&str) + Send);

/// How often the target's sockets are looked at while waiting.
const SCAN_EVERY: Duration = Duration::from_millis(250);
/// A port the target listens on but never mentioned is used only once it has been open this
/// long with `PORT` still closed: an app may open a metrics port before its main one.
const UNNAMED_PORT_GRACE: Duration = Duration::from_secs(3);
/// How long the output readers get, after the target exited, to read its last lines (the
/// out-of-memory banner is the last thing Node prints).
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);
/// Where `/proc` is missing, say so once the wait is no longer short.
const SAY_UNSUPPORTED_AFTER: Duration = Duration::from_secs(2);
/// Lines of the app's output shown with the `--port` hint.
const SHOWN_LINES: usize = 8;

/// What start-up learned, kept for the report.
#[derive(Debug, Clone)]
pub struct Startup {
    /// The port the load goes to: the one in `PORT`, or the one found.
    pub port: u16,
    /// The port leakhound put in `PORT`.
    pub asked: u16,
    /// The target ran out of memory before it listened: a failed target, not a leak.
    pub oom_before_listening: bool,
    /// Lines for the report's `warnings`.
    pub warnings: Vec<String>,
    /// Why the target never listened, when it did not.
    pub failed: Option<String>,
}

/// How the wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    /// It accepts connections on this port.
    Listening(u16),
    /// It never will: why, in one sentence.
    Failed(String),
}

impl Startup {
    pub fn new(port: u16) -> Startup {
        Startup {
            port,
            asked: port,
            oom_before_listening: false,
            warnings: Vec::new(),
            failed: None,
        }
    }

    /// Wait until the target accepts connections, exits, or `timeout` (counted from
    /// `started`) passes.
    pub async fn wait(
        &mut self,
        target: &mut Target,
        timeout: Duration,
        started: Instant,
        progress: Progress<'_>,
    ) -> Waited {
        let w = self.wait_for_port(target, timeout, started, progress).await;
        if let Waited::Failed(why) = &w {
            self.failed = Some(why.clone());
        }
        w
    }

    async fn wait_for_port(
        &mut self,
        target: &mut Target,
        timeout: Duration,
        started: Instant,
        progress: Progress<'_>,
    ) -> Waited {
        let asked = self.asked;
        let mut next_scan = Instant::now();
        // A port found open, and since when.
        let mut seen: Option<(u16, Instant)> = None;
        let mut hinted: Option<u16> = None;
        let mut told_unsupported = false;
        loop {
            if connects(asked).await {
                return Waited::Listening(asked);
            }
            if target.exited().is_some() {
                return self.exited(target).await;
            }
            if started.elapsed() > timeout {
                let mut why = format!(
                    "the target did not accept connections on port {asked} within {timeout:?}"
                );
                if let Some((line, p)) = printed_port(target, asked) {
                    why.push_str(&format!(
                        "; it printed `{line}`: if it ignores $PORT, pass --port {p}"
                    ));
                }
                return Waited::Failed(why);
            }
            if Instant::now() >= next_scan {
                next_scan = Instant::now() + SCAN_EVERY;
                // Read the output before the sockets: a line that says "listening" was
                // printed after the socket opened, so the scan below must see that socket.
                let printed = printed_port(target, asked);
                match self.listening_elsewhere(target) {
                    Ok(Some((p, named))) => {
                        let since = match seen {
                            Some((q, t)) if q == p => t,
                            _ => Instant::now(),
                        };
                        seen = Some((p, since));
                        if (named || since.elapsed() >= UNNAMED_PORT_GRACE) && connects(p).await {
                            self.use_port(p, progress);
                            return Waited::Listening(p);
                        }
                    }
                    r @ (Ok(None) | Err(_)) => {
                        seen = None;
                        if let Err(ProcError::Unsupported) = r {
                            if !told_unsupported && started.elapsed() > SAY_UNSUPPORTED_AFTER {
                                told_unsupported = true;
                                progress(&format!(
                                    "cannot look for another port the target may listen on: {}",
                                    ProcError::Unsupported
                                ));
                            }
                        }
                        if let Some((line, p)) = printed {
                            if hinted != Some(p) {
                                hinted = Some(p);
                                progress(&hint(target, &line, asked, p, timeout));
                            }
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The target exited before listening: out of memory (a heap too small to start) or
    /// anything else.
    async fn exited(&mut self, target: &mut Target) -> Waited {
        let status = target.exited().expect("called once the target exited");
        let t0 = Instant::now();
        while target.captured.lock().unwrap().closed_streams < 2 && t0.elapsed() < OUTPUT_DRAIN {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = target.captured.lock().unwrap();
        if !(c.oom || c.trace.analysis().oom) {
            return Waited::Failed(format!("the target exited before listening ({status})"));
        }
        self.oom_before_listening = true;
        let old = target.old_space;
        let limit = c.heap_limit(Some(target.pid)).map_or(String::new(), |l| {
            format!(" (heap limit {:.0} MiB)", l / MIB)
        });
        let raise = match old.source {
            HeapSource::HeapMb => "raise --heap-mb".to_string(),
            HeapSource::CommandLine => {
                "raise the --max-old-space-size on your command line".to_string()
            }
            HeapSource::NodeOptions => "raise the --max-old-space-size in NODE_OPTIONS".to_string(),
        };
        Waited::Failed(format!(
            "ran out of memory while starting with a {} MiB heap{limit}: {raise}",
            old.mb
        ))
    }

    /// A port the target's processes listen on (reachable on 127.0.0.1, not an inspector),
    /// and whether the app's output names it. A named port is preferred, then the lowest.
    fn listening_elsewhere(&self, target: &Target) -> Result<Option<(u16, bool)>, ProcError> {
        let tree = procfs::process_tree(target.pid)?;
        let inspectors = inspector_ports(target);
        let mut ports: Vec<u16> = procfs::listening_ports(&tree)?
            .into_iter()
            .filter(|l| l.reachable_on_loopback() && l.port != self.asked)
            .map(|l| l.port)
            .filter(|p| !inspectors.contains(p))
            .collect();
        ports.sort_unstable();
        ports.dedup();
        let named = printed_ports(target, self.asked);
        Ok(ports
            .iter()
            .find(|p| named.contains(p))
            .map(|&p| (p, true))
            .or_else(|| ports.first().map(|&p| (p, false))))
    }

    fn use_port(&mut self, port: u16, progress: Progress<'_>) {
        let asked = self.asked;
        progress(&format!(
            "the target listens on 127.0.0.1:{port}, not on PORT={asked}; using it — pass --port {port} to silence this"
        ));
        self.warnings.push(format!(
            "the target ignored PORT={asked} and listens on port {port}; the load went to {port} (pass --port {port})"
        ));
        self.port = port;
    }

    /// What start-up adds to the report: the port the load went to, the warnings, and why
    /// the target never listened (as the `reason`, unless the decision gave one).
    pub fn fill(&self, report: &mut RunReport) {
        report.port = self.port;
        report.warnings.extend(self.warnings.iter().cloned());
        if let Some(why) = &self.failed {
            report.reason.get_or_insert_with(|| why.clone());
        }
    }
}

async fn connects(port: u16) -> bool {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    tokio::net::TcpStream::connect(addr).await.is_ok()
}

/// The ports of the inspector banners (`ws://127.0.0.1:PORT/uuid`) the target printed.
fn inspector_ports(target: &Target) -> Vec<u16> {
    let c = target.captured.lock().unwrap();
    c.banners
        .iter()
        .filter_map(|u| {
            let rest = u.split_once("://")?.1;
            let host = rest.split('/').next()?;
            host.rsplit(':').next()?.parse().ok()
        })
        .collect()
}

/// The app's output lines, oldest first.
fn output_lines(target: &Target) -> Vec<String> {
    let c = target.captured.lock().unwrap();
    c.stdout_tail
        .iter()
        .chain(c.stderr_tail.iter())
        .cloned()
        .collect()
}

/// Every port other than `asked` the app's output says it listens on.
fn printed_ports(target: &Target, asked: u16) -> Vec<u16> {
    output_lines(target)
        .iter()
        .filter_map(|l| port_in_line(l))
        .filter(|&p| p != asked)
        .collect()
}

/// The last line in which the app says it listens on a port other than `asked`, and the port.
fn printed_port(target: &Target, asked: u16) -> Option<(String, u16)> {
    output_lines(target)
        .into_iter()
        .rev()
        .find_map(|l| port_in_line(&l).filter(|&p| p != asked).map(|p| (l, p)))
}

/// The port in a line like `listening on 3456`, `Server running at http://localhost:3456/`
/// or `Listening on port 3456`; `None` for lines that do not say where the app listens.
pub fn port_in_line(line: &str) -> Option<u16> {
    let lower = line.to_ascii_lowercase();
    if let Some(i) = lower.find("://") {
        let host = lower[i + 3..]
            .split(|c: char| c == '/' || c.is_whitespace())
            .next()?;
        let (_, p) = host.rsplit_once(':')?;
        return p.parse().ok().filter(|&p| p > 0);
    }
    if !(lower.contains("listen") || lower.contains("port")) {
        return None;
    }
    lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|w| {
            let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            let digits = w.rsplit(':').next()?;
            (digits.len() >= 2 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse::<u16>().ok())
                .flatten()
        })
        .find(|&p| p > 0)
}

/// The `--port` hint with the app's last lines, shown when the app says it listens somewhere
/// leakhound cannot see.
fn hint(target: &Target, line: &str, asked: u16, port: u16, timeout: Duration) -> String {
    let lines = output_lines(target);
    let shown = &lines[lines.len().saturating_sub(SHOWN_LINES)..];
    let mut s = format!(
        "the target printed `{line}` but does not accept connections on PORT={asked}; its last output:"
    );
    for l in shown {
        s.push_str(&format!("\n  | {l}"));
    }
    s.push_str(&format!(
        "\nhint: if it ignores $PORT, pass --port {port} (still waiting up to --start-timeout {timeout:?})"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_in_what_apps_print() {
        assert_eq!(port_in_line("listening on 3456"), Some(3456));
        assert_eq!(port_in_line("Server listening on port 3456."), Some(3456));
        assert_eq!(
            port_in_line("Server running at http://localhost:3456/"),
            Some(3456)
        );
        assert_eq!(port_in_line("ready on https://127.0.0.1:8443"), Some(8443));
        assert_eq!(port_in_line("Listening at 0.0.0.0:3000"), Some(3000));
        assert_eq!(port_in_line("[MEM] processData START: 84 MB"), None);
        assert_eq!(port_in_line("warming caches..."), None);
        assert_eq!(port_in_line("see https://nodejs.org/en/docs"), None);
        assert_eq!(port_in_line("listening"), None);
    }

    #[test]
    fn the_report_gets_the_port_used_the_warnings_and_the_start_failure() {
        let mut st = Startup::new(4000);
        st.port = 3456;
        st.warnings.push("the target ignored PORT=4000".into());
        let mut r = RunReport::default();
        st.fill(&mut r);
        assert_eq!(r.port, 3456);
        assert_eq!(r.warnings, vec!["the target ignored PORT=4000".to_string()]);
        assert_eq!(r.reason, None);

        st.failed = Some("ran out of memory while starting".into());
        let mut r = RunReport::default();
        st.fill(&mut r);
        assert_eq!(
            r.reason.as_deref(),
            Some("ran out of memory while starting")
        );
        // A reason the decision already gave is kept.
        let mut r = RunReport {
            reason: Some("decided".into()),
            ..Default::default()
        };
        st.fill(&mut r);
        assert_eq!(r.reason.as_deref(), Some("decided"));
    }
}
