//! Which processes of the target ran out of memory, from what V8 prints as one dies: its
//! `<--- Last few GCs --->` block, whose GC lines start with `[PID:0xISOLATE]`. The processes
//! of a cluster share one stderr, so "the target ran out of memory" alone does not say which
//! one did; the pid in the trace does, and it names a process leakhound never followed too
//! (a worker that died before its inspector was reached).
//!
//! Only stderr is read here: `--trace-gc`'s own lines, which carry the same prefix, go to
//! stdout, so the first prefixed line after the block's header is the dying process's.

/// One death V8's trace told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomDeath {
    pub pid: u32,
    /// How many processes of the target had announced themselves ([`crate::preload`]) when the
    /// trace was read: one that announces itself later was started after this death (both
    /// lines come down the same pipe, the death's first).
    pub announced_before: usize,
}

/// The deaths read from the target's stderr so far, in order.
#[derive(Debug, Clone, Default)]
pub struct OomDeaths {
    pub deaths: Vec<OomDeath>,
    /// A block's header was read and its pid not yet.
    awaiting: bool,
}

impl OomDeaths {
    /// Look at one stderr line; `announced` processes have announced themselves so far.
    pub fn push_line(&mut self, line: &str, announced: usize) {
        if line.contains("<--- Last few GCs --->") {
            self.awaiting = true;
            return;
        }
        if !self.awaiting {
            return;
        }
        if let Some(pid) = trace_pid(line) {
            self.awaiting = false;
            if !self.named(pid) {
                self.deaths.push(OomDeath {
                    pid,
                    announced_before: announced,
                });
            }
        } else if line.contains("JavaScript heap out of memory") {
            // A block without GC lines: the pid is not known.
            self.awaiting = false;
        }
    }

    /// Whether V8's trace named `pid` as a process that ran out of memory.
    pub fn named(&self, pid: u32) -> bool {
        self.deaths.iter().any(|d| d.pid == pid)
    }

    /// Whether `pid`, which ended, ran out of memory: the trace named it; or the target said it
    /// ran out (`oom`), the trace named no process, and `pid` is the only one that ended
    /// (`lone`): the banner of a process whose last GCs went unprinted.
    pub fn ran_out(&self, pid: u32, oom: bool, lone: bool) -> bool {
        self.named(pid) || (oom && lone && self.deaths.is_empty())
    }
}

/// The pid of a V8 GC trace line, `[4242:0x5581c8e0]      85 ms: Mark-Compact …`.
pub fn trace_pid(line: &str) -> Option<u32> {
    line.match_indices('[').find_map(|(i, _)| {
        let rest = &line[i + 1..];
        let (pid, tail) = rest.split_once(':')?;
        let hex = tail.strip_prefix("0x")?;
        let ok = !pid.is_empty() && hex.starts_with(|c: char| c.is_ascii_hexdigit());
        ok.then(|| pid.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_is_read_from_a_gc_trace_line() {
        assert_eq!(
            trace_pid("[9255:0x1d2d4c60]       85 ms: Mark-Compact 19.1 (27.7) -> 17.5 (35.0) MB"),
            Some(9255)
        );
        // V8 sometimes runs two lines together: the first prefix counts.
        assert_eq!(
            trace_pid("finalize incrementa[9255:0x1d2d4c60]       56 ms: Mark-Compact"),
            Some(9255)
        );
        assert_eq!(trace_pid("[leakhound] pid=42 heap_size_limit=1"), None);
        assert_eq!(trace_pid("[12:0xzz] x"), None);
        assert_eq!(trace_pid("[:0x1] x"), None);
        assert_eq!(trace_pid("<--- Last few GCs --->"), None);
        assert_eq!(trace_pid(""), None);
    }

    /// The banner Node 20 prints, as the target's stderr carries it.
    fn banner(pid: u32) -> Vec<String> {
        vec![
            String::new(),
            "<--- Last few GCs --->".into(),
            String::new(),
            format!("[{pid}:0x1d2d4c60]       56 ms: Mark-Compact 10.8 (26.2) -> 10.1 (27.2) MB"),
            format!("[{pid}:0x1d2d4c60]       85 ms: Mark-Compact 19.1 (27.7) -> 17.5 (35.0) MB"),
            String::new(),
            "<--- JS stacktrace --->".into(),
            String::new(),
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
                .into(),
        ]
    }

    #[test]
    fn each_death_is_named_by_the_pid_of_its_trace() {
        let mut d = OomDeaths::default();
        // An unrelated bracketed line before any banner names nobody.
        d.push_line("[7:0xab] stray", 0);
        for l in banner(4242) {
            d.push_line(&l, 3);
        }
        for l in banner(4250) {
            d.push_line(&l, 5);
        }
        assert_eq!(
            d.deaths,
            vec![
                OomDeath {
                    pid: 4242,
                    announced_before: 3
                },
                OomDeath {
                    pid: 4250,
                    announced_before: 5
                }
            ]
        );
        assert!(d.named(4242) && d.named(4250) && !d.named(7));
    }

    #[test]
    fn a_banner_without_gc_lines_names_nobody() {
        let mut d = OomDeaths::default();
        d.push_line("<--- Last few GCs --->", 1);
        d.push_line(
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
            1,
        );
        // A later line with a prefix is not taken for the dead process's.
        d.push_line("[99:0x1] something else", 1);
        assert!(d.deaths.is_empty());
    }

    #[test]
    fn only_the_process_the_trace_names_ran_out_of_memory() {
        let mut d = OomDeaths::default();
        for l in banner(4242) {
            d.push_line(&l, 1);
        }
        assert!(d.ran_out(4242, true, false));
        // Another process that ended while the target was out of memory elsewhere.
        assert!(!d.ran_out(4243, true, true));
        // No trace named anyone: the only process that ended is the one that ran out.
        let none = OomDeaths::default();
        assert!(none.ran_out(1, true, true));
        assert!(!none.ran_out(1, true, false));
        assert!(!none.ran_out(1, false, true));
    }
}
