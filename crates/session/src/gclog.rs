//! A running tally of the target's `--trace-gc` lines: enough for the GC share, the
//! allocation volume and the last lines before a crash.
//!
//! Lines are read by `leakhound-gctrace`'s parser (the one GC parser), and GC time is its
//! [`gc_time_ms`] (pause plus incremental marking), so `run`'s `gc_time_share` means what
//! `gc`'s `gc_share` means. The full analysis (`gc_trace`) is the gctrace `Analyzer`; this
//! tally only keeps the few cumulative figures the run's phases difference.

use leakhound_gctrace::{gc_time_ms, parse_line, Line};
use std::collections::VecDeque;

/// The GC reason of the full GCs leakhound forces over the inspector (CDP `collectGarbage`).
const FORCED_REASON: &str = "low memory notification";

/// Cumulative GC figures since the target started.
#[derive(Debug, Clone, Default)]
pub struct GcTally {
    pub gcs: u64,
    pub majors: u64,
    /// GC time ([`gc_time_ms`]) of the app's own GCs (forced ones excluded), milliseconds.
    pub gc_time_ms: f64,
    /// GCs forced by leakhound (`low memory notification`).
    pub forced: u64,
    /// Bytes allocated between GCs (sum of `before` minus the previous `after`).
    pub allocated_bytes: f64,
    last_after_mb: Option<f64>,
    /// The last GC lines verbatim (evidence when the target dies).
    pub last_lines: VecDeque<String>,
}

const KEEP: usize = 8;

impl GcTally {
    /// Feed a stdout line; `true` when it was a GC line.
    pub fn push(&mut self, line: &str) -> bool {
        let Line::Gc(g) = parse_line(line.as_bytes()) else {
            return false;
        };
        self.gcs += 1;
        if g.collector.is_major() {
            self.majors += 1;
        }
        // leakhound's own forced GCs (CDP collectGarbage) are not the app's GC cost.
        if g.reason == FORCED_REASON {
            self.forced += 1;
        } else {
            self.gc_time_ms += gc_time_ms(&g);
        }
        if let Some(prev) = self.last_after_mb {
            let grown = (g.before_mb - prev).max(0.0);
            if grown.is_finite() {
                self.allocated_bytes += grown * 1048576.0;
            }
        }
        if g.after_mb.is_finite() {
            self.last_after_mb = Some(g.after_mb);
        }
        if self.last_lines.len() == KEEP {
            self.last_lines.pop_front();
        }
        self.last_lines.push_back(line.trim_end().to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> GcTally {
        let mut t = GcTally::default();
        assert!(t.push(line), "{line}");
        t
    }

    #[test]
    fn reads_every_version_shape() {
        let v18 = "[4139:0x21120d00]       47 ms: Mark-sweep 12.6 (25.5) -> 11.7 (29.0) MB, 3.8 / 0.0 ms  (+ 4.4 ms in 29 steps since start of marking, biggest step 3.4 ms, walltime since start of marking 11 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via task; GC in old space requested";
        let t = one(v18);
        // The pause and the incremental marking before it.
        assert!(t.majors == 1 && (t.gc_time_ms - 8.2).abs() < 1e-9);
        assert_eq!(t.last_after_mb, Some(11.7));
        let v20 = "[4147:0x9ad3cb0]       11 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";
        let t = one(v20);
        assert!(t.majors == 0 && t.gc_time_ms == 0.75);
        let v26 = "[4185:0x139ae000]      379 ms: Mark-Compact (reduce) 62.2 (70.9) -> 62.2 (67.9) MB, pooled: 0.0 MB, 43.76 / 0.00 ms (average mu = 0.033, current mu = 0.001) last resort; GC in old space requested";
        let t = one(v26);
        assert!(t.majors == 1 && t.gc_time_ms == 43.76);
        assert_eq!(t.last_after_mb, Some(62.2));
        let minor = "[1:0x1]  5 ms: Minor Mark-Sweep 3.9 (4.0) -> 3.7 (5.0) MB, pooled: 0 MB, 0.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";
        assert_eq!(one(minor).majors, 0);
    }

    #[test]
    fn ignores_app_lines_and_garbage() {
        let mut t = GcTally::default();
        for l in [
            "[MEM] start: 12 MB",
            "",
            "[",
            "[1:2] 3 ms: x -> MB, ",
            "hello",
        ] {
            assert!(!t.push(l), "{l}");
        }
        assert_eq!(t.gcs, 0);
        assert!(t.last_lines.is_empty());
    }

    #[test]
    fn tallies_allocation_between_gcs() {
        let mut t = GcTally::default();
        assert!(t.push("[1:0x1] 1 ms: Scavenge 4.0 (5.0) -> 2.0 (5.0) MB, 1.00 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; "));
        assert!(t.push("[1:0x1] 2 ms: Scavenge 5.0 (6.0) -> 2.5 (6.0) MB, 2.00 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; "));
        assert!(!t.push("listening"));
        assert!(t.push("[1:0x1] 3 ms: Mark-Compact (reduce) 2.6 (6.0) -> 2.4 (6.0) MB, 9.00 / 0.00 ms  (average mu = 1.000, current mu = 1.000) low memory notification; GC in old space requested"));
        assert_eq!(t.forced, 1);
        assert_eq!(t.gcs, 3);
        assert_eq!(t.majors, 1);
        assert_eq!(t.gc_time_ms, 3.0);
        assert!((t.allocated_bytes - 3.1 * 1048576.0).abs() < 1.0);
        assert_eq!(t.last_lines.len(), 3);
    }
}
