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
/// channel, the only kind that can be a worker). It counts the requests the process's HTTP
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
  }
} catch (e) {}
try {
  const k = Symbol.for('leakhound.requests'); globalThis[k] = 0;
  require('diagnostics_channel').subscribe('http.server.request.start', () => { globalThis[k]++; });
} catch (e) {}
";

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
    }
}
