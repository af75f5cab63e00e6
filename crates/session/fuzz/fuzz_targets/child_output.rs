//! Whatever a child prints, the line parsers `run` applies to it never panic, and the
//! statistics over what they return stay finite.
#![no_main]

use leakhound_session::gclog::{parse_gc_line, GcTally};
use leakhound_session::target::parse_mem_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut tally = GcTally::default();
    for line in text.split('\n') {
        let _ = parse_gc_line(line);
        let _ = parse_mem_line(line);
        let _ = leakhound_inspector::parse_banner(line);
        tally.push(line);
    }
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
