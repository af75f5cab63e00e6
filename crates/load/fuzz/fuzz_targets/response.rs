//! Response framing never panics: the head parser and the chunked scanner, fed any bytes in
//! any split, either frame a response or say it is bad.
#![no_main]
use leakhound_load::http::{parse_head, Body, Chunked};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().copied().unwrap_or(0) as usize;
    let data = data.get(1..).unwrap_or(&[]);
    if let Ok(Some(h)) = parse_head(data, false) {
        assert!(h.len <= data.len());
        if h.body == Body::Chunked {
            let body = &data[h.len..];
            let cut = split.min(body.len());
            let mut c = Chunked::default();
            if let Ok((n, done)) = c.feed(&body[..cut]) {
                assert!(n <= cut);
                if !done {
                    if let Ok((m, _)) = c.feed(&body[cut..]) {
                        assert!(m <= body.len() - cut);
                    }
                }
            }
        }
    }
    let mut c = Chunked::default();
    let _ = c.feed(data);
});
