//! A running tally of the target's `--trace-gc` lines: enough for the GC share, the
//! allocation volume and the last lines before a crash.
//!
//! (The full analysis lives in `leakhound-gctrace`; this tally only needs the sizes and the
//! pause of each line, and survives lines cut or interleaved by the app's own output.)

use std::collections::VecDeque;

/// The fields of one GC line leakhound uses.
#[derive(Debug, Clone, PartialEq)]
pub struct GcLine {
    pub major: bool,
    pub before_mb: f64,
    pub after_mb: f64,
    pub pause_ms: f64,
}

/// Parse one `--trace-gc` line (v18–v26 formats); `None` for anything else.
pub fn parse_gc_line(line: &str) -> Option<GcLine> {
    let line = line.trim_end();
    if !line.starts_with('[') {
        return None;
    }
    let rest = &line[line.find("] ")? + 2..];
    let rest = &rest[rest.find(" ms: ")? + 5..];
    let mb = rest.find(" MB, ")?;
    let head = &rest[..mb];
    let tail = &rest[mb + 5..];
    let toks: Vec<&str> = head.split_whitespace().collect();
    let arrow = toks.iter().position(|t| *t == "->")?;
    if arrow < 2 || arrow + 1 >= toks.len() {
        return None;
    }
    let before_mb: f64 = toks[arrow - 2].parse().ok()?;
    let after_mb: f64 = toks[arrow + 1].parse().ok()?;
    let name = toks[..arrow - 2].join(" ");
    let major = name.contains("Mark-Compact") || name.contains("Mark-sweep");
    let major = major && !name.contains("Minor");
    let tail = match tail.strip_prefix("pooled: ") {
        Some(t) => &t[t.find(" MB, ")? + 5..],
        None => tail,
    };
    let pause_ms: f64 = tail.split_whitespace().next()?.parse().ok()?;
    Some(GcLine {
        major,
        before_mb,
        after_mb,
        pause_ms,
    })
}

/// Cumulative GC figures since the target started.
#[derive(Debug, Clone, Default)]
pub struct GcTally {
    pub gcs: u64,
    pub majors: u64,
    pub pause_ms: f64,
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
        let Some(g) = parse_gc_line(line) else {
            return false;
        };
        self.gcs += 1;
        if g.major {
            self.majors += 1;
        }
        self.pause_ms += g.pause_ms;
        if let Some(prev) = self.last_after_mb {
            self.allocated_bytes += (g.before_mb - prev).max(0.0) * 1048576.0;
        }
        self.last_after_mb = Some(g.after_mb);
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

    #[test]
    fn parses_every_version_shape() {
        let v18 = "[4139:0x21120d00]       47 ms: Mark-sweep 12.6 (25.5) -> 11.7 (29.0) MB, 3.8 / 0.0 ms  (+ 4.4 ms in 29 steps since start of marking, biggest step 3.4 ms, walltime since start of marking 11 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via task; GC in old space requested";
        let g = parse_gc_line(v18).unwrap();
        assert!(g.major && g.before_mb == 12.6 && g.after_mb == 11.7 && g.pause_ms == 3.8);
        let v20 = "[4147:0x9ad3cb0]       11 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";
        let g = parse_gc_line(v20).unwrap();
        assert!(!g.major && g.pause_ms == 0.75);
        let v26 = "[4185:0x139ae000]      379 ms: Mark-Compact (reduce) 62.2 (70.9) -> 62.2 (67.9) MB, pooled: 0.0 MB, 43.76 / 0.00 ms (average mu = 0.033, current mu = 0.001) last resort; GC in old space requested";
        let g = parse_gc_line(v26).unwrap();
        assert!(g.major && g.after_mb == 62.2 && g.pause_ms == 43.76);
        let minor = "[1:0x1]  5 ms: Minor Mark-Sweep 3.9 (4.0) -> 3.7 (5.0) MB, pooled: 0 MB, 0.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";
        assert!(!parse_gc_line(minor).unwrap().major);
    }

    #[test]
    fn ignores_app_lines_and_garbage() {
        for l in [
            "[MEM] start: 12 MB",
            "",
            "[",
            "[1:2] 3 ms: x -> MB, ",
            "hello",
        ] {
            assert_eq!(parse_gc_line(l), None, "{l}");
        }
    }

    #[test]
    fn tallies_allocation_between_gcs() {
        let mut t = GcTally::default();
        assert!(t.push("[1:0x1] 1 ms: Scavenge 4.0 (5.0) -> 2.0 (5.0) MB, 1.00 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; "));
        assert!(t.push("[1:0x1] 2 ms: Scavenge 5.0 (6.0) -> 2.5 (6.0) MB, 2.00 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; "));
        assert!(!t.push("listening"));
        assert_eq!(t.gcs, 2);
        assert_eq!(t.pause_ms, 3.0);
        assert_eq!(t.allocated_bytes, 3.0 * 1048576.0);
        assert_eq!(t.last_lines.len(), 2);
    }
}
