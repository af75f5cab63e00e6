//! Config files and templates never panic: bad input is an error, not a crash.
#![no_main]
use leakhound_load::{Config, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(t) = Template::parse(text) {
        let mut out = Vec::new();
        t.render(7, &mut fastrand_free_rng(), &mut out);
    }
    if let Ok(c) = Config::parse(text) {
        let _ = c.endpoints(None);
    }
});

fn fastrand_free_rng() -> leakhound_load::template::Rng {
    leakhound_load::template::Rng::with_seed(1)
}
