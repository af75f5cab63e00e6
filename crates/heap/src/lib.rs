//! `leakhound-heap`: read V8 `.heapsnapshot` files fast and answer "which objects, held by
//! what" with the numbers Chrome DevTools would show.
//!
//! - [`Heap::open`] parses (memory-mapped, hand-scanned) and analyses a file: dominators,
//!   retained sizes, distances and class names, by DevTools' rules (devtools-frontend@138048f).
//! - [`summary`], [`diff`] and [`leaks`] build the serialisable reports behind
//!   `leakhound heap summary|diff|leaks`.
//!
//! A capture that streams inspector chunks to a file can call [`Heap::open`] on that file
//! once it is closed; [`parse::parse`] reads a snapshot already in memory.

pub mod analysis;
pub mod classes;
pub mod diff;
pub mod dominators;
pub mod error;
pub mod graph;
pub mod leaks;
pub mod mem;
pub mod parse;
pub mod paths;
pub mod scan;
pub mod summary;
pub mod timing;

pub use analysis::Heap;
pub use diff::{diff, DiffReport};
pub use error::{OpenError, ParseError};
pub use graph::Graph;
pub use leaks::{leaks, LeaksReport};
pub use summary::{summary, Summary};

/// Human-readable bytes (binary units), as in the reports.
pub fn fmt_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
