//! `decide()` on a leak whose `Map` doubles its table inside the window (crate::shape's
//! `one_jump`): a leak at its steady rate, not "ever more slowly".

use std::time::Duration;

use leakhound_report::run_schema::Verdict;

use super::tests::sample;
use super::*;
use crate::observations::{Observations, Stop};
use crate::verdict::{Phase, MIB};

#[test]
fn a_map_leak_that_doubles_in_the_window_is_a_leak_at_its_rate() {
    let seen = crate::shape::tests::map_leak_with_a_doubling();
    let mut samples = vec![sample(0, 0, 3.4 * MIB, Phase::Baseline)];
    for (i, &(r, heap)) in seen.iter().enumerate() {
        let phase = if i == 0 { Phase::Warmup } else { Phase::Load };
        samples.push(sample(i + 1, r, heap, phase));
    }
    let (requests, last) = *seen.last().unwrap();
    samples.push(sample(seen.len() + 1, requests, last, Phase::Idle));
    let o = Observations {
        idle: Duration::from_millis(2500),
        rps: 6000.0,
        prod_heap_mb: 2048.0,
        stopped_by: Some(Stop::Leak),
        ..Observations::served(samples)
    };
    let d = decide(&o, &Thresholds::default());
    assert_eq!(d.verdict, Verdict::Leak, "{:?} {:?}", d.finding, d.reason);
    assert_eq!(d.shape, Shape::Steady);
    assert!(
        (550.0..700.0).contains(&d.retained_bytes_per_request),
        "{}",
        d.retained_bytes_per_request
    );
}
