//! Throughput of the GC trace reader on one core: builds a large synthetic log from the real
//! fixtures (every line of every trace, OOM banners dropped, rewritten as one long-running
//! process with increasing timestamps), then feeds it to `Analyzer::push_bytes` in 1 MiB
//! chunks, as `leakhound gc FILE` does. Prints MB/s (1 MB = 10^6 bytes) for the best of 5 runs.
//!
//! Run: `taskset -c 0 cargo bench -p leakhound-gctrace --bench throughput`
//! Size: `LEAKHOUND_GC_BENCH_MB=512` (default 512).
//! `LEAKHOUND_GC_BENCH_WRITE=/path/file.log` only writes the synthetic log to a file (used by
//! `bench/gc-throughput.sh` to time `leakhound gc` end to end and to show its memory is flat).

use leakhound_gctrace::{parse_line, Analyzer, Line};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/gc-traces");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// One pass over the fixtures as a single process; returns the bytes and the time reached.
fn one_pass(fx: &[(String, String)], mut t_ms: u64, out: &mut Vec<u8>) -> u64 {
    for (_, text) in fx {
        let mut in_banner = false;
        for line in text.lines() {
            if line.starts_with("<--- Last few GCs") {
                in_banner = true;
            }
            if in_banner {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                if let Some(ms) = rest.find(" ms: ") {
                    t_ms += 3;
                    let _ = writeln!(out, "[4242:0x5a5a0000] {t_ms:8} ms: {}", &rest[ms + 5..]);
                    continue;
                }
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    t_ms
}

fn build(fx: &[(String, String)], target_mb: usize) -> Vec<u8> {
    let mut log = Vec::with_capacity(target_mb * 1_000_000 + (1 << 20));
    let mut t = 0;
    while log.len() < target_mb * 1_000_000 {
        t = one_pass(fx, t, &mut log);
    }
    log
}

fn measure(label: &str, log: &[u8]) {
    let mb = log.len() as f64 / 1e6;
    let lines = memchr::memchr_iter(b'\n', log).count();
    println!("{label}: {mb:.0} MB, {lines} lines");

    // The full path: chunked bytes -> lines -> parse -> streaming analysis -> final analysis.
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let mut a = Analyzer::new();
        for chunk in log.chunks(1 << 20) {
            a.push_bytes(chunk);
        }
        a.finish();
        let an = a.analysis();
        let el = start.elapsed().as_secs_f64();
        events = an.gc_events;
        best = best.min(el);
        assert_eq!(an.lines.malformed_gc, 0);
    }
    println!(
        "  Analyzer::push_bytes + analysis: {:.0} MB/s ({:.2} M GC events/s, {events} events, best of 5: {:.3} s)",
        mb / best,
        events as f64 / best / 1e6,
        best
    );

    // The line parser alone.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut n = 0u64;
        let mut from = 0;
        for nl in memchr::memchr_iter(b'\n', log) {
            if matches!(parse_line(&log[from..nl]), Line::Gc(_)) {
                n += 1;
            }
            from = nl + 1;
        }
        std::hint::black_box(n);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "  parse_line alone: {:.0} MB/s (best of 5: {best:.3} s)",
        mb / best
    );
}

fn main() {
    let target_mb: usize = std::env::var("LEAKHOUND_GC_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    let fx = fixtures();
    if let Ok(path) = std::env::var("LEAKHOUND_GC_BENCH_WRITE") {
        // Only write the synthetic log (for end-to-end runs of the binary), then stop.
        std::fs::write(&path, build(&fx, target_mb)).unwrap();
        println!("wrote {target_mb} MB synthetic log to {path}");
        return;
    }
    println!("from {} fixtures, {target_mb} MB per log", fx.len());
    measure(
        "all fixtures (plain, NVP key=value, NVP JSON, verbose, app lines)",
        &build(&fx, target_mb),
    );
    let plain: Vec<_> = fx
        .into_iter()
        .filter(|(n, _)| !n.contains("nvp") && !n.contains("verbose"))
        .collect();
    measure("plain --trace-gc fixtures only", &build(&plain, target_mb));
}
