//! The one definition of GC time and GC share that every leakhound figure uses: `gc`'s
//! `gc_share`, and `run`'s `gc_time_share` (over the load phase) and its `gc_trace`.

use crate::line::GcEvent;

/// The main-thread time one GC cost the program: its pause plus the incremental marking that
/// led up to it (V8 prints both; marking steps run on the main thread between tasks).
/// Non-finite or negative figures (a cut line) count as nothing.
pub fn gc_time_ms(ev: &GcEvent<'_>) -> f64 {
    let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    clean(ev.pause_ms) + ev.incremental.map_or(0.0, |i| clean(i.ms))
}

/// GC time over wall time, 0..=1; `None` when less than a millisecond of wall time passed
/// (no share can be told).
pub fn gc_share(gc_time_ms: f64, wall_ms: f64) -> Option<f64> {
    (wall_ms >= 1.0 && gc_time_ms.is_finite()).then(|| (gc_time_ms / wall_ms).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_line, Line};

    fn event(line: &str) -> GcEvent<'_> {
        match parse_line(line.as_bytes()) {
            Line::Gc(ev) => ev,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gc_time_is_the_pause_plus_incremental_marking() {
        let v18 = "[4139:0x21120d00]       47 ms: Mark-sweep 12.6 (25.5) -> 11.7 (29.0) MB, 3.8 / 0.0 ms  (+ 4.4 ms in 29 steps since start of marking, biggest step 3.4 ms, walltime since start of marking 11 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via task; GC in old space requested";
        assert!((gc_time_ms(&event(v18)) - 8.2).abs() < 1e-9);
        let v20 = "[4147:0x9ad3cb0]       11 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";
        assert_eq!(gc_time_ms(&event(v20)), 0.75);
    }

    #[test]
    fn share_is_bounded_and_needs_wall_time() {
        assert_eq!(gc_share(50.0, 1000.0), Some(0.05));
        assert_eq!(gc_share(5000.0, 1000.0), Some(1.0));
        assert_eq!(gc_share(1.0, 0.5), None);
        assert_eq!(gc_share(f64::NAN, 1000.0), None);
    }
}
