//! The run's GC events for the report's chart, in bounded memory.
//!
//! A long run under `--trace-gc` prints thousands of scavenges; the report only needs enough of
//! them to draw the run. When the buffer is full every other event is dropped and from then on
//! only every other new one is kept (the stride doubles), so the kept events stay spread evenly
//! over the whole run instead of covering only its start or its end.

use leakhound_gctrace::{parse_line, Line};
use leakhound_report::run_schema::{GcEventOut, MAX_GC_EVENTS};

/// One kept event and the process that printed it (`npm start` runs several node processes).
#[derive(Debug, Clone)]
struct Kept {
    pid: u32,
    event: GcEventOut,
}

#[derive(Debug, Clone)]
pub struct GcEvents {
    kept: Vec<Kept>,
    cap: usize,
    stride: u64,
    seen: u64,
}

impl Default for GcEvents {
    fn default() -> Self {
        GcEvents::with_capacity(MAX_GC_EVENTS)
    }
}

impl GcEvents {
    pub fn with_capacity(cap: usize) -> GcEvents {
        GcEvents {
            kept: Vec::new(),
            cap: cap.max(2),
            stride: 1,
            seen: 0,
        }
    }

    /// Feed one line of the target's stdout; anything but a GC line is ignored.
    pub fn push_line(&mut self, line: &str) {
        let Line::Gc(e) = parse_line(line.as_bytes()) else {
            return;
        };
        let share = (e.before_mb - e.after_mb) / e.before_mb;
        // NaN and infinities (a line cut mid-number, "inf") count as nothing freed.
        let freed_share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.push(
            e.pid,
            GcEventOut {
                t_s: e.t_ms / 1000.0,
                collector: e.collector,
                before_mb: e.before_mb,
                after_mb: e.after_mb,
                pause_ms: e.pause_ms,
                freed_share,
            },
        );
    }

    fn push(&mut self, pid: u32, event: GcEventOut) {
        let n = self.seen;
        self.seen += 1;
        if !n.is_multiple_of(self.stride) {
            return;
        }
        if self.kept.len() == self.cap {
            let mut i = 0;
            self.kept.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride *= 2;
            if !n.is_multiple_of(self.stride) {
                return;
            }
        }
        self.kept.push(Kept { pid, event });
    }

    /// The events of `pid`, or all of them when `pid` printed none (a pid namespace, a
    /// wrapper that re-execs).
    pub fn events_of(&self, pid: u32) -> Vec<GcEventOut> {
        let mine = self.kept.iter().any(|k| k.pid == pid);
        self.kept
            .iter()
            .filter(|k| !mine || k.pid == pid)
            .map(|k| k.event.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pid: u32, t_ms: u64, before: f64, after: f64) -> String {
        format!("[{pid}:0x55d0]    {t_ms} ms: Scavenge {before:.1} (8.0) -> {after:.1} (9.0) MB, 0.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ")
    }

    #[test]
    fn keeps_the_fields_of_a_gc_line_and_ignores_the_rest() {
        let mut g = GcEvents::default();
        g.push_line(&line(7, 1500, 8.0, 2.0));
        g.push_line("[MEM] start: 12 MB");
        g.push_line("listening on 3000");
        g.push_line("[7:0x1]  2000 ms: Mark-Compact 30.1 (40.0) -> 10.0 (35.0) MB, 12.50 / 0.00 ms  (average mu = 0.900, current mu = 0.800) low memory notification; GC in old space requested");
        let e = g.events_of(7);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].collector, leakhound_gctrace::Collector::Scavenge);
        assert!((e[0].t_s - 1.5).abs() < 1e-9);
        assert!((e[0].freed_share - 0.75).abs() < 1e-9);
        assert_eq!(e[1].collector, leakhound_gctrace::Collector::MarkCompact);
        assert!((e[1].pause_ms - 12.5).abs() < 1e-9);
    }

    #[test]
    fn stays_bounded_and_spread_over_the_whole_run() {
        let mut g = GcEvents::with_capacity(100);
        for i in 0..10_000u64 {
            g.push_line(&line(1, i, 4.0, 2.0));
        }
        let e = g.events_of(1);
        assert!(e.len() <= 100 && e.len() >= 50, "{}", e.len());
        assert!(e[0].t_s < 0.01, "starts at the start");
        assert!(
            e.last().unwrap().t_s > 9.0,
            "reaches the end: {}",
            e.last().unwrap().t_s
        );
        assert!(e.windows(2).all(|w| w[0].t_s < w[1].t_s));
    }

    #[test]
    fn prefers_the_serving_process() {
        let mut g = GcEvents::default();
        g.push_line(&line(1, 10, 4.0, 2.0));
        g.push_line(&line(2, 20, 4.0, 2.0));
        assert_eq!(g.events_of(2).len(), 1);
        assert_eq!(g.events_of(3).len(), 2);
    }
}
