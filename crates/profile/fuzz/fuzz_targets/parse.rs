//! Arbitrary bytes as a `.heapprofile`: parsing either fails cleanly or yields a profile whose
//! summary never panics, charges every byte once, and serialises.
#![no_main]

use leakhound_profile::{parse, summarize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(profile) = parse(data) {
        let s = summarize(&profile, Some(std::path::Path::new("/srv")), usize::MAX);
        // Sizes come from the file, so the sum saturates like the library's own casts do.
        let charged = s.top_culprits.iter().fold(0u64, |a, c| a.saturating_add(c.bytes));
        let slack = s.top_culprits.len() as u64 + 1;
        // Negative or non-finite sizes are ignored, so the charged bytes can only fall short.
        assert!(charged <= s.total_bytes.saturating_add(slack) || s.total_bytes == 0);
        let _ = serde_json::to_string(&s).unwrap();
    }
});
