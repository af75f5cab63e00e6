//! `cargo run --release -p leakhound-heap --example heap-parse-bench -- FILE [ROUNDS]`: the
//! parse alone (two threads, as `heap summary` runs it) and the number scanner alone (one
//! thread over the `nodes` and `edges` arrays), in wall and CPU seconds, for tuning the
//! scanner without the rest of the analysis in the figures.

use leakhound_heap::scan::scan_records;

fn cpu() -> f64 {
    // SAFETY: getrusage writes into the struct we hand it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: heap-parse-bench FILE [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    // `scan` or `parse` runs only that part (for `perf record`).
    let only = args.get(2).map(String::as_str).unwrap_or("");
    let buf = std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("heap-parse-bench: {path}: {e}");
        std::process::exit(2);
    });
    let find = |needle: &[u8]| {
        memchr::memmem::find(&buf, needle).unwrap_or_else(|| {
            eprintln!("heap-parse-bench: no {:?}", String::from_utf8_lossy(needle));
            std::process::exit(2);
        })
    };
    let nodes_at = find(b"\"nodes\":") + 8;
    let edges_at = find(b"\"edges\":") + 8;
    for round in 0..rounds {
        let (t0, c0) = (std::time::Instant::now(), cpu());
        let mut sum = 0u64;
        let mut count = 0usize;
        for (at, width) in [(nodes_at, 7), (edges_at, 3)] {
            if only == "parse" {
                break;
            }
            scan_records(
                &buf,
                at,
                "x",
                width,
                |r, _| {
                    sum = sum.wrapping_add(r.iter().sum::<u64>());
                    count += 1;
                    Ok(())
                },
                &|_, _| {},
            )
            .expect("scan");
        }
        let (scan_wall, scan_cpu) = (t0.elapsed().as_secs_f64(), cpu() - c0);
        if only == "scan" {
            println!("round {round}: scan 1 thread {scan_wall:.3}s wall {scan_cpu:.3}s cpu ({count} records, sum {sum})");
            continue;
        }
        let (t0, c0) = (std::time::Instant::now(), cpu());
        let g = leakhound_heap::parse::parse(&buf).expect("parse");
        let (parse_wall, parse_cpu) = (t0.elapsed().as_secs_f64(), cpu() - c0);
        println!(
            "round {round}: scan 1 thread {scan_wall:.3}s wall {scan_cpu:.3}s cpu ({count} records, sum {sum}); \
             parse {parse_wall:.3}s wall {parse_cpu:.3}s cpu ({} nodes, {} edges)",
            g.node_count(),
            g.edge_count()
        );
        drop(g);
    }
}
