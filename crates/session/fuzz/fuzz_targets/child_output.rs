//! Whatever a child prints, the line parsers `run` applies to it never panic, and the
//! statistics over what they return stay finite.
#![no_main]

use leakhound_session::gc_events::GcEvents;
use leakhound_session::gclog::GcTally;
use leakhound_session::target::parse_mem_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut tally = GcTally::default();
    let mut events = GcEvents::with_capacity(8);
    for line in text.split('\n') {
        events.push_line(line);
        let _ = parse_mem_line(line);
        let _ = leakhound_inspector::parse_banner(line);
        tally.push(line);
    }
    let kept = events.events_of(0);
    assert!(kept.len() <= 8);
    assert!(kept.iter().all(|e| (0.0..=1.0).contains(&e.freed_share)));
    // Series built from the parsed numbers go through the verdict statistics.
    let ys: Vec<f64> = text
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter_map(|t| t.parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .take(40)
        .collect();
    let xs: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
    let _ = leakhound_session::stats::theil_sen(&xs, &ys);
    let _ = leakhound_session::stats::mann_kendall_p_up(&ys);
});
