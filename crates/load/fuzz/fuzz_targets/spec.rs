//! OpenAPI specs and HAR files never panic: bad input is an error naming the place, and every
//! endpoint built from a good one renders.
#![no_main]
use leakhound_load::{har, openapi};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut eps = openapi::endpoints(text).unwrap_or_default();
    for ids in [false, true] {
        eps.extend(har::endpoints(text, ids).unwrap_or_default());
    }
    let mut rng = leakhound_load::template::Rng::with_seed(1);
    for ep in &eps {
        let mut out = Vec::new();
        ep.path.render(3, &mut rng, &mut out);
        ep.body.render(3, &mut rng, &mut out);
    }
});
