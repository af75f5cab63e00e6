//! `cargo run --release -p leakhound-heap --example heap-replicate -- SRC K OUT`: write K
//! copies of the snapshot SRC's graph into one valid snapshot OUT (see
//! `leakhound_heap::replicate`), for benchmarks at sizes Node cannot write.

use std::io::BufWriter;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, k, out] = args.as_slice() else {
        eprintln!("usage: heap-replicate SRC.heapsnapshot K OUT.heapsnapshot");
        std::process::exit(2);
    };
    let k: u32 = match k.parse() {
        Ok(k) if k > 0 => k,
        _ => {
            eprintln!("heap-replicate: K must be a positive integer, not `{k}`");
            std::process::exit(2);
        }
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! {
        eprintln!("heap-replicate: {what}: {e}");
        std::process::exit(2);
    };
    let file = std::fs::File::open(src).unwrap_or_else(|e| fail(src, &e));
    // SAFETY: read-only map of a file nobody should be writing while we copy it.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap_or_else(|e| fail(src, &e));
    let o = std::fs::File::create(out).unwrap_or_else(|e| fail(out, &e));
    let mut w = BufWriter::with_capacity(8 << 20, o);
    let r = leakhound_heap::replicate::replicate(&map, k, &mut w).unwrap_or_else(|e| fail(src, &e));
    println!(
        "{out}: {k} copies, {} nodes, {} edges, {} bytes",
        r.nodes, r.edges, r.bytes
    );
}
