//! Human-readable renderings of a [`GcAnalysis`]: the multi-line summary and the one-line
//! status used while following a live stream.

use crate::analysis::{GcAnalysis, Verdict};
use std::fmt::Write;

fn dur(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "n/a".to_string(), f)
}

/// The text renderings of a [`GcAnalysis`] (a trait because the type lives in the schema
/// crate): `use leakhound_gctrace::GcAnalysisText` to call them as methods.
pub trait GcAnalysisText {
    /// The multi-line report `leakhound gc` prints.
    fn render_text(&self, source: &str) -> String;
    /// One line for a live status display.
    fn status_line(&self) -> String;
}

impl GcAnalysisText for GcAnalysis {
    fn render_text(&self, source: &str) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "leakhound gc: {source}: {} GC events over {} ({} lines, {} not GC output skipped)",
            self.gc_events,
            dur(self.duration_s),
            self.lines.total,
            self.lines.unrecognised + self.lines.overlong
        );
        let verdict = match self.verdict {
            Verdict::Leak if self.oom => "LEAK (the process ran out of memory)",
            Verdict::Leak => "LEAK",
            Verdict::AllocationPressure => "ALLOCATION PRESSURE (no leak: heavy garbage)",
            Verdict::Healthy => "HEALTHY",
            Verdict::Inconclusive => "INCONCLUSIVE (too few major GCs to judge)",
        };
        let _ = writeln!(o, "\nverdict: {verdict}");
        for e in &self.evidence {
            let _ = writeln!(o, "  - {e}");
        }
        let _ = writeln!(
            o,
            "\n{:<30} {:>7} {:>9} {:>9} {:>9} {:>10} {:>9} {:>7}",
            "collector", "count", "p50 ms", "p99 ms", "max ms", "total ms", "freed MiB", "freed%"
        );
        for c in &self.collectors {
            let _ = writeln!(
                o,
                "{:<30} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>10.1} {:>9.1} {:>6.1}%",
                c.name,
                c.count,
                c.pause_p50_ms,
                c.pause_p99_ms,
                c.pause_max_ms,
                c.pause_total_ms + c.incremental_marking_ms,
                c.freed_mb_mean,
                c.freed_share_mean * 100.0
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "GC share of wall time: {}   allocation rate: {} (recent {})",
            opt(self.gc_share, |s| format!("{:.1}%", s * 100.0)),
            opt(self.allocation.mb_per_s, |r| format!("{r:.0} MiB/s")),
            opt(self.allocation.recent_mb_per_s, |r| format!("{r:.0} MiB/s")),
        );
        let ls = &self.live_set;
        let _ = write!(
            o,
            "live set after major GCs: {} samples, first {}, last {}, peak {}",
            ls.major_gcs,
            opt(ls.first_mb, |v| format!("{v:.1} MiB")),
            opt(ls.last_mb, |v| format!("{v:.1} MiB")),
            opt(ls.peak_mb, |v| format!("{v:.1} MiB")),
        );
        if let Some(t) = &ls.trend {
            let _ = write!(
                o,
                "; trend {:+.2} MiB/min, R²={:.2}, Mann–Kendall p={} ({} warm-up samples excluded)",
                t.slope_mb_per_min,
                t.r2,
                crate::analysis::fmt_p(t.mann_kendall_p),
                ls.warmup_excluded
            );
        }
        let _ = writeln!(o);
        if let Some(limit) = self.heap_limit_mb {
            let _ = writeln!(
                o,
                "heap limit: {limit:.0} MiB ({})   time to OOM: {}",
                self.heap_limit_source.map_or("?", |s| s.as_str()),
                opt(self.time_to_oom_s, |s| if s == 0.0 {
                    "already out of memory".to_string()
                } else {
                    format!("about {}", dur(s))
                })
            );
        }
        if let Some(mu) = &self.mu {
            let _ = writeln!(
                o,
                "mutator utilisation: average {:.3}, current {:.3}",
                mu.average, mu.current
            );
        }
        if let Some(r) = &self.oom_report {
            let _ = writeln!(o, "\nout of memory:");
            if let Some(l) = &r.fatal_line {
                let _ = writeln!(o, "  {l}");
            }
            for g in &r.last_gcs {
                let _ = writeln!(
                    o,
                    "  last GC: {} at {:.0} ms, {:.1} -> {:.1} MiB{}",
                    g.collector.name(),
                    g.t_ms,
                    g.before_mb,
                    g.after_mb,
                    if g.truncated { " (entry cut)" } else { "" }
                );
            }
            let _ = writeln!(o, "  native stack: {} frames", r.native_stack_frames);
        }
        if !self.last_gc_lines.is_empty() {
            let _ = writeln!(o, "\nlast GC lines:");
            for l in self.last_gc_lines.iter().rev().take(3).rev() {
                let _ = writeln!(o, "  {l}");
            }
        }
        o
    }

    fn status_line(&self) -> String {
        let majors = self.live_set.major_gcs;
        let mut s = format!("gc: {} GCs ({} major)", self.gc_events, majors);
        if let Some(last) = self.live_set.last_mb {
            let _ = write!(s, " | live {last:.1} MiB");
            if let Some(t) = &self.live_set.trend {
                let _ = write!(s, " {:+.1} MiB/min", t.slope_mb_per_min);
            }
        }
        if let Some(g) = self.gc_share {
            let _ = write!(s, " | GC {:.0}%", g * 100.0);
        }
        if let Some(r) = self.allocation.recent_mb_per_s {
            let _ = write!(s, " | alloc {r:.0} MiB/s");
        }
        let _ = write!(s, " | {}", self.verdict.as_str());
        if self.oom {
            s.push_str(" | OUT OF MEMORY");
        } else if let Some(t) = self.time_to_oom_s {
            let _ = write!(s, " | OOM in ~{}", dur(t));
        }
        s
    }
}
