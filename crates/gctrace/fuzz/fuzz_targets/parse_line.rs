//! Arbitrary bytes through the line parser, the ring-entry parser and the streaming analyzer
//! (chunked at a size taken from the input), then a full analysis and its JSON: nothing may
//! panic, and the analyzer must count every line it was given.
#![no_main]

use leakhound_gctrace::{parse_line, parse_ring_entry, Analyzer, AnalyzerConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_line(data);
    let _ = parse_ring_entry(data);
    let (chunk, body) = match data.split_first() {
        Some((&c, rest)) => ((c as usize % 64) + 1, rest),
        None => (1, data),
    };
    let mut a = Analyzer::with_config(AnalyzerConfig {
        heap_limit_mb: Some(128.0),
        max_line_bytes: 512,
        series_cap: 16,
    });
    for c in body.chunks(chunk) {
        a.push_bytes(c);
    }
    a.finish();
    let an = a.analysis();
    let newlines = body.iter().filter(|&&b| b == b'\n').count() as u64;
    let expected = newlines + u64::from(!body.is_empty() && body.last() != Some(&b'\n'));
    assert_eq!(an.lines.total, expected);
    let _ = serde_json::to_string(&an).unwrap();
});
