//! The block number scanner against the byte-wise one it replaced
//! (`leakhound_heap::scan::reference`), on any input: the same records at the same offsets,
//! the same end, the same error at the same offset.
//!
//! Input: byte 0 picks the record width (1..=8) and whether the rest is taken raw or mapped
//! onto the bytes that matter here (random bytes almost never make the 64-byte blocks of
//! digits, commas and newlines the fast path takes); bytes 1..3 pick the stop position
//! (0xffff: none). The array is scanned from its first byte, as after `[`.
#![no_main]
use leakhound_heap::scan::reference::{outcome, reference_outcome};
use libfuzzer_sys::fuzz_target;

/// Mostly digits, then separators, then the bytes that must send a block byte-wise.
fn mapped(b: u8) -> u8 {
    match b {
        0..=159 => b'0' + b % 10,
        160..=199 => b',',
        200..=229 => b'\n',
        _ => b" \r\t.eE-+]x\"[\x80\xff\x00"[(b - 230) as usize % 15],
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let width = 1 + (data[0] & 7) as usize;
    let raw = data[0] & 0x80 != 0;
    let stop = u16::from_le_bytes([data[1], data[2]]);
    let stop = if stop == u16::MAX {
        usize::MAX
    } else {
        stop as usize
    };
    let text: Vec<u8> = if raw {
        data[3..].to_vec()
    } else {
        data[3..].iter().map(|&b| mapped(b)).collect()
    };
    let got = outcome(&text, 0, stop, width);
    let want = reference_outcome(&text, 0, stop, width);
    assert_eq!(got, want, "width {width}, stop {stop}, text {text:?}");
});
