//! From accumulated state to a verdict a person can act on, with the numbers that decided it.
//!
//! The output types are `leakhound.gc/v1` in the schema crate (re-exported here). This module
//! depends on [`crate::analyzer`] (it reads the accumulated state), never the other way round.

use crate::analyzer::{Analyzer, INEFFECTIVE_SHARE};
use crate::line::{Collector, FatalReason};
use crate::series::Point;
use crate::stats;
pub use leakhound_schema::gc::{
    AllocationRate, CollectorStats, GcAnalysis, HeapLimitSource, IneffectiveStreak, LiveSet,
    LiveSetTrend, Mu, OomReport, ReasonCount, Verdict, SCHEMA,
};

/// Below this many major GCs after warm-up the live-set trend is not judged.
pub const MIN_TREND_POINTS: usize = 5;
/// Mann–Kendall significance for "the live set is rising".
pub const TREND_ALPHA: f64 = 0.01;
/// GC share of wall time at or above which GC work is called pressure.
pub const PRESSURE_GC_SHARE: f64 = 0.10;
/// Allocation rate (MB/s) at or above which allocation is called pressure. A Node HTTP
/// service under load makes ~100-150 MB/s of ordinary request garbage (measured on the
/// examples' fixed server), so the bar sits well above that.
pub const PRESSURE_ALLOC_MB_S: f64 = 300.0;
/// Ineffective major GCs in a row, near the limit, that count as a leak signal.
pub const INEFFECTIVE_STREAK_LEAK: u64 = 3;

fn warmup_count(n: usize) -> usize {
    if n >= 10 {
        n.div_ceil(5)
    } else if n >= 4 {
        1
    } else {
        0
    }
}

fn trend_of(points: &[Point]) -> Option<LiveSetTrend> {
    if points.len() < MIN_TREND_POINTS {
        return None;
    }
    let xs: Vec<f64> = points.iter().map(|p| p.t_s / 60.0).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.mb).collect();
    let ts = stats::theil_sen(&xs, &ys)?;
    let r2 = stats::linear_fit(&xs, &ys).map_or(0.0, |f| f.r2);
    let mk = stats::mann_kendall(&ys)?;
    Some(LiveSetTrend {
        slope_mb_per_min: ts.slope,
        r2,
        mann_kendall_z: mk.z,
        mann_kendall_p: mk.p_value,
        kendall_tau: mk.tau,
        direction: mk.trend(TREND_ALPHA),
        points: points.len(),
        span_s: points.last()?.t_s - points.first()?.t_s,
    })
}

/// A p-value for people: tiny values say "< 0.0001" rather than `0.00e0`.
pub fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        "<0.0001".to_string()
    } else {
        format!("{p:.4}")
    }
}

fn fmt_dur(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

impl Analyzer {
    /// The analysis of everything seen so far. Cheap enough to call after every GC (a few
    /// hundred points at most go through the O(n²) trend statistics).
    pub fn analysis(&self) -> GcAnalysis {
        analyse(self)
    }
}

fn analyse(a: &Analyzer) -> GcAnalysis {
    let duration_ms = a.first_t_ms.map_or(0.0, |f| (a.last_t_ms - f).max(0.0));
    let mut collectors = Vec::new();
    let mut gc_time_ms = 0.0;
    for c in Collector::ALL {
        let Some(acc) = &a.collectors[c.index()] else {
            continue;
        };
        gc_time_ms += acc.pause_total_ms + acc.incremental_ms;
        let n = acc.count.max(1) as f64;
        collectors.push(CollectorStats {
            collector: c,
            name: c.name().to_string(),
            count: acc.count,
            pause_p50_ms: acc.pauses_us.value_at_quantile(0.5) as f64 / 1000.0,
            pause_p99_ms: acc.pauses_us.value_at_quantile(0.99) as f64 / 1000.0,
            pause_max_ms: acc.pause_max_ms,
            pause_total_ms: acc.pause_total_ms,
            incremental_marking_ms: acc.incremental_ms,
            freed_mb_total: acc.freed_total_mb,
            freed_mb_mean: acc.freed_total_mb / n,
            freed_share_mean: acc.freed_share_sum / n,
        });
    }
    let gc_share = crate::share::gc_share(gc_time_ms, duration_ms);
    let rate = |mb: f64, ms: f64| (ms > 0.0).then(|| mb / (ms / 1000.0));
    let (rmb, rms) = a
        .recent_alloc
        .iter()
        .fold((0.0, 0.0), |(m, t), (dm, dt)| (m + dm, t + dt));
    let allocation = AllocationRate {
        mb_per_s: rate(a.alloc_mb, a.alloc_ms),
        recent_mb_per_s: rate(rmb, rms),
        allocated_mb: a.alloc_mb,
    };

    let samples = a.live.points();
    let warm = warmup_count(samples.len());
    let trend = trend_of(&samples[warm..]);
    let live_set = LiveSet {
        major_gcs: a.live.seen(),
        warmup_excluded: warm,
        trend,
        first_mb: samples.first().map(|p| p.mb),
        last_mb: samples.last().map(|p| p.mb),
        peak_mb: (a.live.seen() > 0).then_some(a.peak_live_mb),
        samples,
    };

    let oom = a.oom.fatal.is_some();
    let (heap_limit_mb, heap_limit_source) = match a.cfg.heap_limit_mb {
        Some(l) => (Some(l), Some(HeapLimitSource::Flag)),
        None if oom && a.peak_before_mb > 0.0 => {
            (Some(a.peak_before_mb), Some(HeapLimitSource::OomPeak))
        }
        None => (None, None),
    };

    let mut evidence = Vec::new();
    let pressure_share = gc_share.is_some_and(|s| s >= PRESSURE_GC_SHARE);
    let pressure_alloc = allocation
        .mb_per_s
        .is_some_and(|r| r >= PRESSURE_ALLOC_MB_S);
    let rising = live_set.trend.as_ref().filter(|t| {
        let growth = t.slope_mb_per_min * t.span_s / 60.0;
        let base = live_set.first_mb.unwrap_or(0.0).abs();
        t.direction == stats::Trend::Increasing
            && t.slope_mb_per_min > 0.0
            && growth >= (0.10 * base).max(1.0)
    });
    // Only a streak still running at the end counts: the heap is full of live objects now.
    let streak_leak = a.ineffective_current >= INEFFECTIVE_STREAK_LEAK;

    let verdict = if oom || rising.is_some() || (streak_leak && live_set.trend.is_some()) {
        Verdict::Leak
    } else if live_set.trend.is_some() {
        if pressure_share || pressure_alloc {
            Verdict::AllocationPressure
        } else {
            Verdict::Healthy
        }
    } else {
        // Allocation pressure says "garbage, not retention": without a live-set trend the
        // retention half of that cannot be told, so heavy GC work alone stays inconclusive.
        Verdict::Inconclusive
    };

    if verdict == Verdict::AllocationPressure {
        evidence.push(format!(
            "the live set stays flat while the program {}: it allocates fast and keeps little (allocation pressure, not a leak)",
            match (pressure_share, gc_share, allocation.mb_per_s) {
                (true, Some(sh), _) => format!("spends {:.0}% of its time in GC", sh * 100.0),
                (_, _, Some(r)) => format!("allocates {r:.0} MiB/s"),
                _ => "works the GC hard".to_string(),
            }
        ));
    } else if verdict == Verdict::Healthy {
        evidence
            .push("the live set after major GCs does not grow and GC work is moderate".to_string());
    }
    if oom {
        let reason = match a.oom.fatal {
            Some(FatalReason::ReachedHeapLimit) => "Reached heap limit",
            Some(FatalReason::IneffectiveMarkCompacts) => {
                "Ineffective mark-compacts near heap limit"
            }
            _ => "heap out of memory",
        };
        let mut s = format!("the process died out of memory (FATAL ERROR: {reason})");
        if a.peak_before_mb > 0.0 {
            s.push_str(&format!(
                " with {:.1} MiB of live objects at its peak",
                a.peak_before_mb
            ));
        }
        evidence.push(s);
    }
    if let Some(t) = &live_set.trend {
        let growth = t.slope_mb_per_min * t.span_s / 60.0;
        evidence.push(format!(
            "live set after major GCs {} {:.2} MiB/min (Theil–Sen) over {} major GCs in {} after warm-up: {:+.1} MiB, R²={:.2}, Mann–Kendall p={}",
            if rising.is_some() { "grows" } else if t.slope_mb_per_min > 0.0 { "is flat at most, slope" } else { "does not grow, slope" },
            t.slope_mb_per_min,
            t.points,
            fmt_dur(t.span_s),
            growth,
            t.r2,
            fmt_p(t.mann_kendall_p),
        ));
    } else if live_set.major_gcs > 0 || a.lines.gc_events > 0 {
        evidence.push(if live_set.major_gcs == 0 {
            "no major GC yet: the live set cannot be judged from young GCs alone".to_string()
        } else {
            format!(
                "only {} major GCs: at least {} after warm-up are needed to judge the live set",
                live_set.major_gcs, MIN_TREND_POINTS
            )
        });
        if pressure_share || pressure_alloc {
            evidence.push(
                "GC works hard, but whether that is garbage (allocation pressure) or retention \
                 (a leak) needs the live set: trace a longer or busier run"
                    .to_string(),
            );
        }
    }
    if a.ineffective_max > 0 {
        evidence.push(format!(
            "{} major GCs in a row freed less than {:.0}% of the heap near its limit{}",
            a.ineffective_max,
            INEFFECTIVE_SHARE * 100.0,
            if a.ineffective_current > 0 {
                format!(" ({} in a row at the end)", a.ineffective_current)
            } else {
                String::new()
            }
        ));
    }
    if let Some(share) = gc_share {
        evidence.push(format!(
            "GC took {:.1}% of wall time ({:.0} ms of {})",
            share * 100.0,
            gc_time_ms,
            fmt_dur(duration_ms / 1000.0)
        ));
    }
    if let Some(r) = allocation.mb_per_s {
        evidence.push(format!(
            "allocation rate {:.0} MiB/s between GCs ({:.0} MiB allocated)",
            r, allocation.allocated_mb
        ));
    }
    if let Some((avg, cur)) = a.mu {
        if cur < 0.5 {
            evidence.push(format!(
                "mutator utilisation fell to {cur:.3} (average {avg:.3}): the program spends most of its time in GC"
            ));
        }
    }

    let time_to_oom_s = if oom {
        Some(0.0)
    } else {
        match (heap_limit_mb, &live_set.trend, live_set.last_mb) {
            (Some(limit), Some(t), Some(last)) if rising.is_some() && t.slope_mb_per_min > 0.0 => {
                Some(((limit - last).max(0.0) / t.slope_mb_per_min) * 60.0)
            }
            _ => None,
        }
    };
    if let (Some(s), false) = (time_to_oom_s, oom) {
        evidence.push(format!(
            "at this rate the live set reaches the {:.0} MiB heap limit in about {}",
            heap_limit_mb.unwrap_or(0.0),
            fmt_dur(s)
        ));
    } else if rising.is_some() && heap_limit_mb.is_none() {
        evidence.push("pass --heap-limit MB to estimate the time to out-of-memory".to_string());
    }
    if a.lines.malformed_gc > 0 {
        evidence.push(format!(
            "{} lines looked like GC lines but could not be read",
            a.lines.malformed_gc
        ));
    }

    let oom_report = (oom || a.oom.seen_banner).then(|| OomReport {
        fatal_reason: a.oom.fatal,
        fatal_line: a.oom.fatal_line.clone(),
        last_gcs: a.oom.ring.clone(),
        native_stack_frames: a.oom.native_frames,
    });
    let mut reasons: Vec<ReasonCount> = a
        .reasons
        .iter()
        .map(|(r, c)| ReasonCount {
            reason: r.clone(),
            count: *c,
        })
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.count));

    GcAnalysis {
        schema: SCHEMA.to_string(),
        verdict,
        oom,
        evidence,
        lines: a.lines.clone(),
        formats: a.formats.clone(),
        pid: a.primary.map(|p| p.0),
        gc_events: a.lines.gc_events,
        other_isolate_events: a.other_isolate_events,
        duration_s: duration_ms / 1000.0,
        collectors,
        gc_share,
        gc_time_ms,
        allocation,
        live_set,
        ineffective_streak: IneffectiveStreak {
            current: a.ineffective_current,
            longest: a.ineffective_max,
            freed_share_below: INEFFECTIVE_SHARE,
        },
        heap_limit_mb,
        heap_limit_source,
        time_to_oom_s,
        mu: a.mu.map(|(average, current)| Mu { average, current }),
        reasons,
        oom_report,
        last_gc_lines: a.last_gc_lines(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t_ms: u64, major: bool, before: f64, after: f64, pause: f64) -> String {
        format!(
            "[7:0xabc] {t_ms:8} ms: {} {before:.1} ({:.1}) -> {after:.1} ({:.1}) MB, {pause:.2} / 0.00 ms  (average mu = 0.950, current mu = 0.950) allocation failure; \n",
            if major { "Mark-Compact" } else { "Scavenge" },
            before + 4.0,
            after + 4.0
        )
    }

    /// `majors` major GCs with live set `live(i)`, each after 9 scavenges; every GC comes
    /// `gap_ms` after the previous one and sees `young_mb` of new allocation.
    fn synth(
        majors: u64,
        live: impl Fn(u64) -> f64,
        young_mb: f64,
        gap_ms: u64,
        pause: f64,
    ) -> Analyzer {
        let mut a = Analyzer::with_config(AnalyzerConfig {
            heap_limit_mb: Some(256.0),
            ..Default::default()
        });
        let mut t = 0;
        for i in 0..majors {
            let l = live(i);
            for _ in 0..9 {
                t += gap_ms;
                a.push_line(line(t, false, l + young_mb, l, pause).as_bytes());
            }
            t += gap_ms;
            a.push_line(line(t, true, l + 2.0, l, pause).as_bytes());
        }
        a
    }

    use crate::analyzer::AnalyzerConfig;

    #[test]
    fn flat_live_set_and_little_gc_is_healthy() {
        let a = synth(
            30,
            |i| 40.0 + [0.0, 0.4, -0.3, 0.2][i as usize % 4],
            2.0,
            100,
            1.0,
        );
        let an = a.analysis();
        assert_eq!(an.verdict, Verdict::Healthy, "{:?}", an.evidence);
        assert!(an.gc_share.unwrap() < 0.05);
        assert!(an.time_to_oom_s.is_none());
        assert_eq!(an.live_set.warmup_excluded, 6);
    }

    #[test]
    fn flat_live_set_with_heavy_gc_is_allocation_pressure() {
        // 8 MB of garbage every 10 ms = 800 MB/s, 4 ms pauses.
        let a = synth(
            30,
            |i| 40.0 + [0.0, 0.4, -0.3, 0.2][i as usize % 4],
            8.0,
            10,
            4.0,
        );
        let an = a.analysis();
        assert_eq!(an.verdict, Verdict::AllocationPressure, "{:?}", an.evidence);
        assert!(an.allocation.mb_per_s.unwrap() > 300.0);
        assert!(
            an.evidence[0].contains("allocation pressure"),
            "{:?}",
            an.evidence
        );
    }

    #[test]
    fn steadily_growing_live_set_is_a_leak_with_time_to_oom() {
        // +1 MB per major GC, 10 s apart: 6 MB/min, from 40 MB towards a 256 MB limit.
        let a = synth(40, |i| 40.0 + i as f64, 2.0, 1000, 1.0);
        let an = a.analysis();
        assert_eq!(an.verdict, Verdict::Leak, "{:?}", an.evidence);
        let t = an.live_set.trend.as_ref().unwrap();
        assert!((t.slope_mb_per_min - 6.0).abs() < 1e-6, "{t:?}");
        assert!(t.r2 > 0.99);
        // (256 - 79) MB / 6 MB/min = 29.5 min.
        let tto = an.time_to_oom_s.unwrap();
        assert!((tto - 29.5 * 60.0).abs() < 1.0, "{tto}");
        assert!(!an.oom);
    }

    #[test]
    fn few_major_gcs_with_heavy_gc_are_inconclusive_with_the_reason() {
        // 800 MB/s of garbage but only 3 major GCs: pressure cannot be told from retention.
        let a = synth(3, |_| 40.0, 8.0, 10, 4.0);
        let an = a.analysis();
        assert_eq!(an.verdict, Verdict::Inconclusive, "{:?}", an.evidence);
        assert!(an.allocation.mb_per_s.unwrap() > PRESSURE_ALLOC_MB_S);
        assert!(
            an.evidence[0].starts_with("only 3 major GCs"),
            "{:?}",
            an.evidence
        );
        assert!(
            an.evidence[1].contains("trace a longer"),
            "{:?}",
            an.evidence
        );
    }

    #[test]
    fn few_major_gcs_are_inconclusive() {
        let a = synth(3, |_| 40.0, 2.0, 100, 1.0);
        assert_eq!(a.analysis().verdict, Verdict::Inconclusive);
    }
}
