//! What leakhound runs in every Node process of the target before the app's code (`--require`
//! in `NODE_OPTIONS`, which every process of the tree inherits), and the line each process
//! writes from it. That line is how leakhound learns of every process the target starts, in
//! start order, even one that dies before its inspector is reached: a cluster worker that runs
//! out of memory during the warm-up is still known by its pid, its parent and its cluster id
//! ([`crate::processes`]).

/// What the preload writes to stderr before the app's code runs: `[leakhound] pid=N
/// heap_size_limit=BYTES ppid=P` and, in a cluster worker, ` worker=ID`; read back by the
/// target's output reader and kept out of the app's output.
pub const MARKER: &str = "[leakhound] pid=";

/// `--trace-gc` is refused in NODE_OPTIONS (exit 9), so the preload turns it on. It also reports
/// the real heap limit at once: an app that runs out of memory while starting never gets as
/// far as an inspector session that could ask. Worker threads run preloads too but have heaps
/// of their own, so only the main thread reports. Node has set a cluster worker up before the
/// preload runs, so `cluster` knows its id then (asked only in a process forked with an IPC
/// channel, the only kind that can be a worker). In a cluster primary it also reports every
/// worker's exit ([`EXIT_MARKER`]): a worker that crashes before its inspector is reached is
/// known by nothing else (a listener changes nothing for the app: `cluster` emits the event
/// whether anyone listens or not). It counts the requests the process's HTTP
/// servers get (read over the inspector), so a cluster worker is regressed on the requests it
/// served.
pub const PRELOAD: &str = "require('v8').setFlagsFromString('--trace-gc');
try {
  if (require('worker_threads').isMainThread) {
    let w = '';
    try {
      const c = process.channel ? require('cluster') : null;
      if (c && c.isWorker) w = ' worker=' + (c.worker ? c.worker.id : '?');
    } catch (e) {}
    require('fs').writeSync(2, '[leakhound] pid=' + process.pid + ' heap_size_limit=' +
      require('v8').getHeapStatistics().heap_size_limit + ' ppid=' + process.ppid + w + '\\n');
    if (!w) {
      const c = require('cluster');
      if (c.isPrimary) c.on('exit', (wk, code, signal) => {
        try {
          require('fs').writeSync(2, '[leakhound] exit pid=' + wk.process.pid + ' code=' + code +
            ' signal=' + signal + '\\n');
        } catch (e) {}
      });
    }
  }
} catch (e) {}
try {
  const k = Symbol.for('leakhound.requests'); globalThis[k] = 0;
  require('diagnostics_channel').subscribe('http.server.request.start', () => { globalThis[k]++; });
} catch (e) {}
";

/// What a cluster primary's preload writes when one of its workers exits: `[leakhound] exit
/// pid=N code=C signal=S` (`null` for the one that does not apply).
pub const EXIT_MARKER: &str = "[leakhound] exit pid=";

/// A cluster worker's end, as its primary's preload reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    pub pid: u32,
    pub code: Option<i32>,
    pub signal: Option<String>,
}

impl Exited {
    /// How it ended, in the words of the report: `exited with code 1`, `was killed by SIGKILL`.
    pub fn describe(&self) -> String {
        match (&self.signal, self.code) {
            (Some(s), _) => format!("was killed by {s}"),
            (None, Some(c)) => format!("exited with code {c}"),
            (None, None) => "exited".to_string(),
        }
    }
}

/// The worker exit an [`EXIT_MARKER`] line reports; `None` for any other line.
pub fn parse_exit(line: &str) -> Option<Exited> {
    let rest = line.strip_prefix(EXIT_MARKER)?;
    let mut words = rest.split_whitespace();
    let pid = words.next()?.parse().ok()?;
    let mut e = Exited {
        pid,
        code: None,
        signal: None,
    };
    for w in words {
        match w.split_once('=') {
            Some(("code", v)) => e.code = v.parse().ok(),
            Some(("signal", v)) if v != "null" && !v.is_empty() => e.signal = Some(v.to_string()),
            _ => {}
        }
    }
    Some(e)
}

/// One process of the target, as its preload announced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub pid: u32,
    /// V8's `heap_size_limit` in bytes.
    pub heap_limit: f64,
    pub ppid: Option<u32>,
    /// Its cluster worker id, when it is a cluster worker.
    pub worker: Option<String>,
}

/// The process a [`MARKER`] line announces; `None` for any other line.
pub fn parse_marker(line: &str) -> Option<Started> {
    let rest = line.strip_prefix(MARKER)?;
    let mut words = rest.split_whitespace();
    let pid = words.next()?.parse().ok()?;
    let mut s = Started {
        pid,
        heap_limit: f64::NAN,
        ppid: None,
        worker: None,
    };
    for w in words {
        match w.split_once('=') {
            Some(("heap_size_limit", v)) => s.heap_limit = v.parse().ok()?,
            Some(("ppid", v)) => s.ppid = v.parse().ok(),
            Some(("worker", v)) => s.worker = Some(v.to_string()),
            _ => {}
        }
    }
    (!s.heap_limit.is_nan()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preloads_line_is_read() {
        assert_eq!(
            parse_marker("[leakhound] pid=42 heap_size_limit=184549376 ppid=7 worker=3"),
            Some(Started {
                pid: 42,
                heap_limit: 184_549_376.0,
                ppid: Some(7),
                worker: Some("3".into()),
            })
        );
        // A process that is not a cluster worker; the older line without its parent.
        let s = parse_marker("[leakhound] pid=42 heap_size_limit=1 ppid=7").unwrap();
        assert_eq!((s.ppid, s.worker), (Some(7), None));
        let s = parse_marker("[leakhound] pid=42 heap_size_limit=184549376").unwrap();
        assert_eq!((s.pid, s.heap_limit, s.ppid), (42, 184_549_376.0, None));
        assert_eq!(parse_marker("[leakhound] pid=x heap_size_limit=1"), None);
        assert_eq!(parse_marker("[leakhound] pid=42 ppid=7"), None);
        assert_eq!(parse_marker("listening on 3000"), None);
        // A worker's exit is not an announcement.
        assert_eq!(
            parse_marker("[leakhound] exit pid=42 code=1 signal=null"),
            None
        );
    }

    #[test]
    fn a_workers_exit_line_is_read() {
        let e = parse_exit("[leakhound] exit pid=42 code=1 signal=null").unwrap();
        assert_eq!((e.pid, e.code, e.signal.as_deref()), (42, Some(1), None));
        assert_eq!(e.describe(), "exited with code 1");
        let e = parse_exit("[leakhound] exit pid=43 code=null signal=SIGKILL").unwrap();
        assert_eq!(
            (e.pid, e.code, e.signal.as_deref()),
            (43, None, Some("SIGKILL"))
        );
        assert_eq!(e.describe(), "was killed by SIGKILL");
        assert_eq!(parse_exit("[leakhound] exit pid=x code=1"), None);
        assert_eq!(parse_exit("[leakhound] pid=42 heap_size_limit=1"), None);
    }

    /// The preload is valid JavaScript that Node runs, and a cluster primary's worker that
    /// exits is reported with its pid and code.
    #[test]
    fn the_preload_reports_a_cluster_workers_exit() {
        let dir = tempfile::tempdir().unwrap();
        let pre = dir.path().join("pre.js");
        std::fs::write(&pre, PRELOAD).unwrap();
        let app = dir.path().join("app.js");
        std::fs::write(
            &app,
            "const c = require('cluster'); if (c.isPrimary) { c.fork(); } else { process.exit(3); }",
        )
        .unwrap();
        let out = std::process::Command::new("node")
            .arg("--require")
            .arg(&pre)
            .arg(&app)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let started: Vec<Started> = err.lines().filter_map(parse_marker).collect();
        let exits: Vec<Exited> = err.lines().filter_map(parse_exit).collect();
        assert_eq!(started.len(), 2, "{err}");
        let worker = started
            .iter()
            .find(|s| s.worker.is_some())
            .expect("a worker");
        assert_eq!(
            exits,
            vec![Exited {
                pid: worker.pid,
                code: Some(3),
                signal: None
            }],
            "{err}"
        );
    }
}
