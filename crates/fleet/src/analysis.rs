//! The per-instance judgement, as pure functions of the series (no I/O): testable on
//! hand-made data and fast enough for a thousand instances.
//!
//! # Method
//! 1. **Segments.** A restart resets the heap, so a line through a restarting process' heap
//!    finds nothing (or, worse, a fall). The series is split wherever
//!    `process_start_time_seconds` changes; without that series (OpenTelemetry), wherever
//!    the floor falls by more than half ([`RESTART_DROP`]).
//! 2. **Floor.** The heap gauge is a sawtooth: it climbs with allocation and falls at each
//!    GC. What a leak raises is the bottom of the teeth, the memory that survives collection.
//!    The floor is a centred rolling minimum over [`FLOOR_WINDOW`] = 5 steps: at 30 s steps
//!    that is 2.5 min (several scavenges and usually a mark-compact on a busy service); at the
//!    2 s steps of a 2-minute window on a 1 s scrape it is 10 s, i.e. 10 scrapes, which still
//!    leaves 60 floor points for the test below. Longer windows would hide the restarts of a
//!    fast crash loop. Long segments are then thinned to at most [`MAX_FIT_POINTS`] by
//!    bucket minima (the floor of the floor), which keeps the pairwise statistics at a few
//!    thousand pairs per instance.
//! 3. **Statistics.** Per segment, the Theil–Sen slope of the floor with Sen's 95 % interval
//!    and a one-sided Mann–Kendall test for a rise (`leakhound_gctrace::stats`, the project's
//!    one statistics module). Both are rank-based: one odd scrape cannot tilt them.
//! 4. **Verdict.** A segment leaks when the rise is significant (`p <` [`ALPHA`]), the whole
//!    interval is above zero, and the floor grew by at least [`MIN_GROWTH_BYTES`] and
//!    [`MIN_GROWTH_SHARE`] of where it started (a significant but tiny rise is no leak worth
//!    waking anyone for). An instance leaks when its longest segment leaks, or when it
//!    restarted at least twice, each time after reaching a similar peak
//!    ([`PEAK_SIMILARITY`]) in the last quarter of the segment (it died at its highest) with
//!    the heap climbing in the segment before, and the climb since each restart, pooled over
//!    restarts, is surely above zero (Sen's interval): a crash loop driven by memory, whose
//!    segments may each be too short to test. It is `no-leak` when
//!    its longest segment holds at least [`MIN_POINTS`] points and does not leak, else
//!    `inconclusive`.

use leakhound_fmt as fmt;
use leakhound_gctrace::stats;
use leakhound_schema::fleet::{FleetInstance, FleetJob};
use leakhound_schema::Verdict;

/// Fewer points than this per instance is too little data to judge.
pub const MIN_POINTS: usize = 20;
/// Steps in the rolling minimum that makes the floor.
pub const FLOOR_WINDOW: usize = 5;
/// Floor points kept per segment for the pairwise statistics.
pub const MAX_FIT_POINTS: usize = 120;
/// One-sided significance of the Mann–Kendall rise.
pub const ALPHA: f64 = 0.01;
/// A leak's floor must grow at least this much over the segment…
pub const MIN_GROWTH_BYTES: f64 = 1024.0 * 1024.0;
/// …and by at least this share of where it started.
pub const MIN_GROWTH_SHARE: f64 = 0.05;
/// A fall of the floor below this share of the floor before it is a restart (used only when
/// no start-time series is available).
pub const RESTART_DROP: f64 = 0.5;
/// Peaks before restarts within this share of the highest count as "the same peak".
pub const PEAK_SIMILARITY: f64 = 0.7;

/// One instance's data, as read from Prometheus.
#[derive(Debug, Clone, Copy)]
pub struct InstanceData<'a> {
    pub job: &'a str,
    pub instance: &'a str,
    /// The heap gauge, `(unix s, bytes)` in time order.
    pub heap: &'a [(f64, f64)],
    /// `process_start_time_seconds`, `(unix s, start unix s)`; empty when not exported.
    pub start_times: &'a [(f64, f64)],
    /// The heap limit and where it came from (`flag`, `metric`).
    pub heap_limit: Option<(f64, &'a str)>,
}

/// Centred rolling minimum over `w` points; at the edges the window is shifted inwards (kept
/// `w` wide), so the first and last floor points do not sit on a tooth's top.
pub fn rolling_min(v: &[f64], w: usize) -> Vec<f64> {
    let w = w.max(1).min(v.len().max(1));
    let half = w / 2;
    (0..v.len())
        .map(|i| {
            let lo = i.saturating_sub(half).min(v.len() - w);
            let hi = lo + w;
            v[lo..hi].iter().copied().fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// Split points into segments between restarts: index ranges into `heap`.
pub fn segments(heap: &[(f64, f64)], start_times: &[(f64, f64)]) -> Vec<std::ops::Range<usize>> {
    let mut cuts = Vec::new();
    if !start_times.is_empty() {
        // The start time in force at each heap point: the latest sample at or before it.
        let mut j = 0;
        let mut current: Option<f64> = None;
        for (i, &(t, _)) in heap.iter().enumerate() {
            let mut seen = None;
            while j < start_times.len() && start_times[j].0 <= t + 1e-6 {
                seen = Some(start_times[j].1);
                j += 1;
            }
            if let Some(st) = seen {
                if current.is_some_and(|c| (c - st).abs() > 0.5) && i > 0 {
                    cuts.push(i);
                }
                current = Some(st);
            }
        }
    } else {
        // A point below half the floor of the few points before it (since the last cut, two
        // at least): the process started over.
        let w = FLOOR_WINDOW;
        let mut last_cut = 0;
        for i in 1..heap.len() {
            let from = last_cut.max(i.saturating_sub(w));
            if i - from < 2 {
                continue;
            }
            let before = heap[from..i]
                .iter()
                .map(|p| p.1)
                .fold(f64::INFINITY, f64::min);
            if heap[i].1 < RESTART_DROP * before {
                cuts.push(i);
                last_cut = i;
            }
        }
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for c in cuts {
        out.push(from..c);
        from = c;
    }
    out.push(from..heap.len());
    out
}

/// The floor of one segment: the rolling minimum, thinned to at most `max` points by bucket
/// minima (each bucket keeps its lowest point, at that point's time).
pub fn floor(points: &[(f64, f64)], w: usize, max: usize) -> Vec<(f64, f64)> {
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let mins = rolling_min(&values, w);
    let rolled: Vec<(f64, f64)> = points.iter().map(|p| p.0).zip(mins).collect();
    if rolled.len() <= max {
        return rolled;
    }
    let bucket = rolled.len().div_ceil(max);
    rolled
        .chunks(bucket)
        .map(|c| {
            *c.iter()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("chunks are non-empty")
        })
        .collect()
}

/// What one segment's floor did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentFit {
    /// Raw points in the segment.
    pub points: usize,
    pub span_s: f64,
    pub floor_start: f64,
    pub floor_end: f64,
    /// The highest raw value in the segment.
    pub peak: f64,
    /// Whether that peak is in the segment's last quarter (two points at least): a process
    /// that dies of memory dies at its highest; one that crashes for another reason need not.
    pub peak_at_end: bool,
    /// Theil–Sen slope of the floor and Sen's 95 % interval, bytes per hour (`None` with
    /// fewer than three floor points).
    pub slope: Option<(f64, f64, f64)>,
    /// One-sided Mann–Kendall p-value for a rise.
    pub p_up: f64,
}

impl SegmentFit {
    /// The floor's growth over the segment by its slope.
    pub fn growth(&self) -> f64 {
        self.slope.map_or(0.0, |s| s.0 * self.span_s / 3600.0)
    }

    /// Significant, wholly positive, and large enough to matter.
    pub fn leaks(&self) -> bool {
        let Some((_, lo, _)) = self.slope else {
            return false;
        };
        self.points >= 8
            && self.p_up < ALPHA
            && lo > 0.0
            && self.growth() >= MIN_GROWTH_BYTES.max(MIN_GROWTH_SHARE * self.floor_start)
    }
}

/// The rolling-minimum width for a segment of `len` points: [`FLOOR_WINDOW`], but never more
/// than a quarter of the segment, so the few points of a crash loop's short segment keep
/// their climb instead of collapsing into one minimum.
pub fn floor_window(len: usize) -> usize {
    FLOOR_WINDOW.min(len / 4).max(1)
}

/// Fit one segment's floor.
pub fn fit_segment(points: &[(f64, f64)]) -> SegmentFit {
    let fl = floor(points, floor_window(points.len()), MAX_FIT_POINTS);
    let t0 = points.first().map_or(0.0, |p| p.0);
    let xs: Vec<f64> = fl.iter().map(|p| (p.0 - t0) / 3600.0).collect();
    let ys: Vec<f64> = fl.iter().map(|p| p.1).collect();
    let slope = if ys.len() >= 3 {
        stats::theil_sen_interval(&xs, &ys).map(|f| (f.slope, f.lo, f.hi))
    } else {
        None
    };
    SegmentFit {
        points: points.len(),
        span_s: points.last().map_or(0.0, |p| p.0) - t0,
        floor_start: ys.first().copied().unwrap_or(0.0),
        floor_end: ys.last().copied().unwrap_or(0.0),
        peak: points.iter().map(|p| p.1).fold(0.0, f64::max),
        // The first time the peak is reached: a plateau that lasts is not a death at the top.
        peak_at_end: points
            .iter()
            .enumerate()
            .fold(None::<(usize, f64)>, |best, (i, p)| match best {
                Some((_, v)) if v >= p.1 => best,
                _ => Some((i, p.1)),
            })
            .is_some_and(|(i, _)| i + (points.len() / 4).max(2) >= points.len()),
        slope,
        p_up: stats::mann_kendall_p_up(&ys),
    }
}

/// Judge one instance.
pub fn judge(d: &InstanceData<'_>) -> FleetInstance {
    let mut out = FleetInstance {
        instance: d.instance.to_string(),
        job: d.job.to_string(),
        verdict: Verdict::Inconclusive,
        points: d.heap.len() as u32,
        ..Default::default()
    };
    if d.heap.len() < MIN_POINTS {
        out.segments = u32::from(!d.heap.is_empty());
        out.evidence.push(format!(
            "only {} points in the window (at least {MIN_POINTS} are needed): widen --window or shorten --step",
            d.heap.len()
        ));
        return out;
    }
    let ranges = segments(d.heap, d.start_times);
    let fits: Vec<SegmentFit> = ranges
        .iter()
        .map(|r| fit_segment(&d.heap[r.clone()]))
        .collect();
    out.segments = fits.len() as u32;
    out.restarts = fits.len() as u32 - 1;
    out.floor_start_bytes = fits.first().map(|f| f.floor_start);
    out.floor_end_bytes = fits.last().map(|f| f.floor_end);
    let ended = &fits[..fits.len() - 1];
    out.restart_peaks_bytes = ended.iter().map(|f| f.peak).collect();

    // The longest segment carries the slope (the last one on a tie: the process as it is now).
    let main = fits
        .iter()
        .enumerate()
        .max_by_key(|(i, f)| (f.points, *i))
        .map(|(_, f)| *f)
        .expect("at least one segment");
    if let Some((s, lo, hi)) = main.slope {
        out.bytes_per_hour = Some(s);
        out.ci_low = Some(lo);
        out.ci_high = Some(hi);
    }
    out.mann_kendall_p = Some(main.p_up);

    let max_peak = ended.iter().map(|f| f.peak).fold(0.0, f64::max);
    let mut peaks: Vec<f64> = ended.iter().map(|f| f.peak).collect();
    let median_peak = stats::median(&mut peaks).unwrap_or(0.0);
    let near_median = ended
        .iter()
        .filter(|f| (f.peak - median_peak).abs() <= (1.0 - PEAK_SIMILARITY) * median_peak)
        .count();
    let similar_peaks = ended.len() >= 2 && near_median * 4 >= ended.len() * 3;
    let climbing = ended
        .iter()
        .filter(|f| {
            f.peak_at_end && (f.floor_end > f.floor_start * 1.1 || f.peak > f.floor_start * 1.5)
        })
        .count();
    // The climb since each restart, pooled: it must be surely above zero for a crash loop to
    // be a leak.
    let pooled = if similar_peaks && climbing * 4 >= ended.len() * 3 {
        pooled_climb(d.heap, &ranges).filter(|&(_, lo, _)| lo > 0.0)
    } else {
        None
    };
    let restart_leak = pooled.is_some();

    let main_leak = main.leaks();
    if let (Some((s, lo, hi)), false) = (pooled, main_leak) {
        // Every segment is a short climb: the rate is the pooled climb since each restart.
        out.bytes_per_hour = Some(s);
        out.ci_low = Some(lo);
        out.ci_high = Some(hi);
    }
    out.verdict = if main_leak || restart_leak {
        Verdict::Leak
    } else if main.points >= MIN_POINTS {
        Verdict::NoLeak
    } else {
        Verdict::Inconclusive
    };

    // Time to OOM against the best limit known.
    let limit = d
        .heap_limit
        .map(|(b, s)| (b, s.to_string()))
        .or_else(|| (max_peak > 0.0).then(|| (max_peak, "restart-peak".to_string())));
    if let (Some((limit, source)), Some(rate)) = (limit, out.bytes_per_hour) {
        out.heap_limit_bytes = Some(limit);
        out.heap_limit_source = Some(source.clone());
        if rate > 0.0 && out.verdict == Verdict::Leak {
            // Where the heap stands now: the last segment's floor in a crash loop, else the
            // floor the slope was measured on.
            let now = if restart_leak && !main_leak {
                fits.last().map_or(0.0, |f| f.floor_end)
            } else {
                main.floor_end
            };
            let left = (limit - now).max(0.0);
            out.time_to_oom_s = Some(left / rate * 3600.0);
        }
    }

    // Evidence, most decisive first.
    if restart_leak {
        out.evidence.push(format!(
            "restarted {} times in the window, each time after reaching about {} (highest {})",
            out.restarts,
            fmt::bytes(median_peak),
            fmt::bytes(max_peak)
        ));
        if let (false, Some(s), Some(lo), Some(hi)) =
            (main_leak, out.bytes_per_hour, out.ci_low, out.ci_high)
        {
            out.evidence.push(format!(
                "climbing {} [{}, {}] after each restart",
                fmt::bytes_per(s, "hour"),
                fmt::bytes(lo),
                fmt::bytes(hi)
            ));
        }
    } else if out.restarts > 0 {
        out.evidence.push(format!(
            "restarted {} time{} in the window (peaks {})",
            out.restarts,
            if out.restarts == 1 { "" } else { "s" },
            ended
                .iter()
                .map(|f| fmt::bytes(f.peak))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some((s, lo, hi)) = main.slope {
        out.evidence.push(format!(
            "{} floor {} → {} over {}: {} [{}, {}], Mann–Kendall p {}",
            if fits.len() > 1 {
                "longest segment's"
            } else {
                "post-GC"
            },
            fmt::bytes(main.floor_start),
            fmt::bytes(main.floor_end),
            fmt::duration(main.span_s),
            fmt::bytes_per(s, "hour"),
            fmt::bytes(lo),
            fmt::bytes(hi),
            p_text(main.p_up)
        ));
        if !main_leak && !restart_leak && main.p_up < ALPHA && lo > 0.0 {
            out.evidence.push(format!(
                "the rise is significant but small: {} over the segment, under the {} / {:.0} % threshold",
                fmt::bytes(main.growth()),
                fmt::bytes(MIN_GROWTH_BYTES),
                MIN_GROWTH_SHARE * 100.0
            ));
        }
    }
    if let Some(t) = out.time_to_oom_s {
        out.evidence.push(format!(
            "projected to reach the {} limit ({}) in {}",
            fmt::bytes(out.heap_limit_bytes.unwrap_or(0.0)),
            out.heap_limit_source.as_deref().unwrap_or(""),
            fmt::duration(t)
        ));
    }
    if out.verdict == Verdict::Inconclusive && main.points < MIN_POINTS {
        out.evidence.push(format!(
            "the longest stretch without a restart holds {} points (at least {MIN_POINTS} are needed)",
            main.points
        ));
    }
    out
}

/// Theil–Sen over every segment's floor, each shifted to start at (0, 0): the climb since a
/// restart, pooled over restarts. Bytes per hour with Sen's interval.
pub fn pooled_climb(
    heap: &[(f64, f64)],
    ranges: &[std::ops::Range<usize>],
) -> Option<(f64, f64, f64)> {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    let per = (MAX_FIT_POINTS * 2 / ranges.len().max(1)).max(4);
    for r in ranges {
        let seg = &heap[r.clone()];
        let fl = floor(seg, floor_window(seg.len()), per);
        let Some(&(t0, v0)) = fl.first() else {
            continue;
        };
        for (t, v) in fl {
            xs.push((t - t0) / 3600.0);
            ys.push(v - v0);
        }
    }
    if xs.len() < 3 {
        return None;
    }
    stats::theil_sen_interval(&xs, &ys).map(|f| (f.slope, f.lo, f.hi))
}

fn p_text(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// Leaks first, fastest first; then inconclusive, then no-leak, each by rate.
pub fn rank(v: &mut [FleetInstance]) {
    let class = |v: Verdict| match v {
        Verdict::Leak => 0,
        Verdict::Inconclusive => 1,
        _ => 2,
    };
    v.sort_by(|a, b| {
        class(a.verdict).cmp(&class(b.verdict)).then_with(|| {
            b.bytes_per_hour
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.bytes_per_hour.unwrap_or(f64::NEG_INFINITY))
        })
    });
}

/// Jobs of two or more instances that all leak at a similar rate (the fastest at most twice
/// the slowest): the code leaks, not one pod.
pub fn leaking_jobs(v: &[FleetInstance]) -> Vec<FleetJob> {
    let mut jobs: Vec<&str> = v.iter().map(|i| i.job.as_str()).collect();
    jobs.sort_unstable();
    jobs.dedup();
    let mut out = Vec::new();
    for job in jobs {
        let members: Vec<&FleetInstance> = v.iter().filter(|i| i.job == job).collect();
        if members.len() < 2 || members.iter().any(|i| i.verdict != Verdict::Leak) {
            continue;
        }
        let mut rates: Vec<f64> = members.iter().filter_map(|i| i.bytes_per_hour).collect();
        if rates.len() != members.len() || rates.iter().any(|r| *r <= 0.0) {
            continue;
        }
        let (lo, hi) = rates
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), r| (l.min(*r), h.max(*r)));
        if hi <= 2.0 * lo {
            out.push(FleetJob {
                job: job.to_string(),
                instances: members.len() as u32,
                bytes_per_hour: stats::median(&mut rates).unwrap_or(0.0),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    /// A GC sawtooth: `floor(t)` plus a tooth that climbs `amp` over `period` steps.
    fn sawtooth(
        n: usize,
        step: f64,
        period: usize,
        amp: f64,
        floor: impl Fn(f64) -> f64,
    ) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let t = i as f64 * step;
                let tooth = amp * ((i % period) as f64 / period as f64);
                (1.7e9 + t, floor(t) + tooth)
            })
            .collect()
    }

    fn data<'a>(heap: &'a [(f64, f64)], st: &'a [(f64, f64)]) -> InstanceData<'a> {
        InstanceData {
            job: "api",
            instance: "127.0.0.1:9100",
            heap,
            start_times: st,
            heap_limit: None,
        }
    }

    #[test]
    fn the_floor_is_the_bottom_of_the_sawtooth() {
        let s = sawtooth(60, 2.0, 4, 10.0 * MIB, |_| 50.0 * MIB);
        let fl = floor(&s, FLOOR_WINDOW, MAX_FIT_POINTS);
        assert_eq!(fl.len(), 60);
        assert!(fl.iter().all(|p| p.1 == 50.0 * MIB), "{fl:?}");
        // Thinned by bucket minima beyond MAX_FIT_POINTS.
        let long = sawtooth(720, 30.0, 3, MIB, |t| 100.0 * MIB + t);
        let fl = floor(&long, FLOOR_WINDOW, MAX_FIT_POINTS);
        assert_eq!(fl.len(), 120);
        assert!(fl.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_two_minute_window_at_two_second_steps_finds_a_leak() {
        // 60 points, 5 MiB/min of floor growth under an 8 MiB sawtooth of period 5 steps.
        let s = sawtooth(60, 2.0, 5, 8.0 * MIB, |t| 40.0 * MIB + t / 60.0 * 5.0 * MIB);
        let j = judge(&data(&s, &[]));
        assert_eq!(j.verdict, Verdict::Leak, "{:?}", j.evidence);
        let rate = j.bytes_per_hour.unwrap();
        assert!((rate / (300.0 * MIB) - 1.0).abs() < 0.1, "{rate}");
        assert!(j.ci_low.unwrap() > 0.0 && j.ci_high.unwrap() >= rate);
        assert_eq!(j.segments, 1);
        assert!(j.time_to_oom_s.is_none(), "no limit known");
    }

    #[test]
    fn a_flat_sawtooth_is_no_leak() {
        let s = sawtooth(60, 2.0, 5, 8.0 * MIB, |_| 40.0 * MIB);
        let j = judge(&data(&s, &[]));
        assert_eq!(j.verdict, Verdict::NoLeak, "{:?}", j.evidence);
        // A tiny significant rise (0.2 MiB over the window) is not a leak either.
        let s = sawtooth(60, 2.0, 5, 8.0 * MIB, |t| 40.0 * MIB + t * 1700.0);
        let j = judge(&data(&s, &[]));
        assert_eq!(j.verdict, Verdict::NoLeak, "{:?}", j.evidence);
    }

    #[test]
    fn too_few_points_is_inconclusive() {
        let s = sawtooth(19, 30.0, 3, MIB, |t| 40.0 * MIB + t * 1e5);
        let j = judge(&data(&s, &[]));
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert!(j.evidence[0].contains("19 points"), "{:?}", j.evidence);
    }

    type Points = Vec<(f64, f64)>;

    /// A crash loop: the heap climbs from 10 MiB to ~64 MiB in 10 steps, then the process
    /// restarts (a new start time) and does it again.
    fn crash_loop(cycles: usize, len: usize) -> (Points, Points) {
        let mut heap = Vec::new();
        let mut st = Vec::new();
        for c in 0..cycles {
            for k in 0..len {
                let t = 1.7e9 + ((c * (len + 1) + k) as f64) * 2.0;
                heap.push((t, 10.0 * MIB + (k as f64) * 54.0 * MIB / (len - 1) as f64));
                st.push((t, 1.7e9 + (c * (len + 1)) as f64 * 2.0));
            }
        }
        (heap, st)
    }

    #[test]
    fn restarts_after_similar_peaks_are_a_leak_with_the_peak_as_limit() {
        let (heap, st) = crash_loop(5, 10);
        let j = judge(&data(&heap, &st));
        assert_eq!(j.segments, 5);
        assert_eq!(j.restarts, 4);
        assert_eq!(j.verdict, Verdict::Leak, "{:?}", j.evidence);
        assert!(
            j.evidence[0].starts_with(
                "restarted 4 times in the window, each time after reaching about 64.0 MiB"
            ),
            "{:?}",
            j.evidence
        );
        // The rate is the climb since each restart: 54 MiB over 18 s.
        let want = 54.0 * MIB / 18.0 * 3600.0;
        let rate = j.bytes_per_hour.unwrap();
        assert!((rate / want - 1.0).abs() < 0.02, "{rate} vs {want}");
        assert!(j.ci_low.unwrap() > 0.0);
        assert_eq!(j.heap_limit_source.as_deref(), Some("restart-peak"));
        assert!(j.time_to_oom_s.is_some());
        // The same loop without a start-time series: the >50 % fall finds the restarts.
        let j2 = judge(&data(&heap, &[]));
        assert_eq!(j2.restarts, 4, "{:?}", j2.evidence);
        assert_eq!(j2.verdict, Verdict::Leak);
    }

    #[test]
    fn a_crash_loop_that_does_not_die_at_its_peak_is_no_memory_leak() {
        // Each life: a warm-up climb to a plateau with a sawtooth, then a crash (an exception,
        // say) well after the peak. Peaks are similar, but the process does not die at its top.
        let mut heap = Vec::new();
        let mut st = Vec::new();
        for c in 0..4 {
            for k in 0..30 {
                let t = 1.7e9 + ((c * 31 + k) as f64) * 2.0;
                let v = if k < 5 {
                    10.0 * MIB + k as f64 * 6.0 * MIB
                } else {
                    40.0 * MIB - (k % 3) as f64 * 8.0 * MIB
                };
                heap.push((t, v));
                st.push((t, c as f64));
            }
        }
        let j = judge(&data(&heap, &st));
        assert_eq!(j.restarts, 3);
        assert_ne!(j.verdict, Verdict::Leak, "{:?}", j.evidence);
    }

    #[test]
    fn one_restart_of_a_flat_process_is_no_leak() {
        let mut heap = sawtooth(40, 2.0, 4, 4.0 * MIB, |_| 30.0 * MIB);
        let mut st: Vec<(f64, f64)> = heap.iter().map(|p| (p.0, 1.0)).collect();
        for (i, p) in heap.iter_mut().enumerate().skip(30) {
            p.1 = 20.0 * MIB + (i % 2) as f64 * MIB;
            st[i].1 = 2.0;
        }
        let j = judge(&data(&heap, &st));
        assert_eq!(j.restarts, 1);
        assert_eq!(j.verdict, Verdict::NoLeak, "{:?}", j.evidence);
        // A sawtooth deeper than half is not taken for restarts when start times are known.
        let deep = sawtooth(40, 2.0, 8, 60.0 * MIB, |_| 20.0 * MIB);
        let st: Vec<(f64, f64)> = deep.iter().map(|p| (p.0, 1.0)).collect();
        assert_eq!(judge(&data(&deep, &st)).restarts, 0);
    }

    #[test]
    fn a_known_limit_gives_time_to_oom() {
        let s = sawtooth(100, 30.0, 3, MIB, |t| 100.0 * MIB + t / 3600.0 * 50.0 * MIB);
        let mut d = data(&s, &[]);
        d.heap_limit = Some((500.0 * MIB, "flag"));
        let j = judge(&d);
        assert_eq!(j.verdict, Verdict::Leak);
        let left = 500.0 * MIB - j.floor_end_bytes.unwrap();
        let want = left / (50.0 * MIB) * 3600.0;
        assert!(
            (j.time_to_oom_s.unwrap() / want - 1.0).abs() < 0.05,
            "{:?} vs {want}",
            j.time_to_oom_s
        );
    }

    #[test]
    fn ranking_and_jobs() {
        let inst = |name: &str, job: &str, v: Verdict, r: f64| FleetInstance {
            instance: name.into(),
            job: job.into(),
            verdict: v,
            bytes_per_hour: Some(r),
            ..Default::default()
        };
        let mut v = vec![
            inst("a", "web", Verdict::NoLeak, 10.0),
            inst("b", "api", Verdict::Leak, 100.0),
            inst("c", "api", Verdict::Leak, 150.0),
            inst("d", "web", Verdict::Leak, 500.0),
            inst("e", "batch", Verdict::Inconclusive, 1.0),
        ];
        rank(&mut v);
        let names: Vec<&str> = v.iter().map(|i| i.instance.as_str()).collect();
        assert_eq!(names, ["d", "c", "b", "e", "a"]);
        let jobs = leaking_jobs(&v);
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        assert_eq!(jobs[0].job, "api");
        assert_eq!(jobs[0].bytes_per_hour, 125.0);
        // Rates too far apart: two pods, not the job.
        v[1].bytes_per_hour = Some(400.0);
        assert!(leaking_jobs(&v).is_empty());
    }
}
