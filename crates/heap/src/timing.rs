//! Stage timings for the benchmark notes, shared by the parser and the analysis (its own
//! module so that neither of those has to import the other for it).

/// `LEAKHOUND_HEAP_TIMING=1` prints how long each stage took (for the benchmark notes).
pub fn timing(stage: &str, t0: std::time::Instant) {
    if std::env::var_os("LEAKHOUND_HEAP_TIMING").is_some() {
        let rss = std::fs::read_to_string("/proc/self/status")
            .ok()
            .map(|s| {
                let field = |k: &str| {
                    s.lines()
                        .find(|l| l.starts_with(k))
                        .map_or("", |l| l[k.len()..].trim())
                        .to_string()
                };
                format!("{}, peak {}", field("VmRSS:"), field("VmHWM:"))
            })
            .unwrap_or_default();
        // Minor faults so far (the 10th field of /proc/self/stat, after the command name):
        // each is a fresh 4 KiB page, the cost this machine charges most for.
        let faults = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                let after = &s[s.rfind(')')? + 2..];
                after.split(' ').nth(7).map(str::to_string)
            })
            .unwrap_or_default();
        eprintln!(
            "[heap] {stage}: {:.3}s (rss {rss}, faults {faults})",
            t0.elapsed().as_secs_f64()
        );
    }
}
