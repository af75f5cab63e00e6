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
pub mod app_path;
pub mod cancel;
pub mod classes;
pub mod coded;
pub mod diff;
pub mod dominators;
pub mod domtree;
pub mod edge_sources;
pub mod error;
pub mod graph;
pub mod holders;
pub mod id_index;
pub mod inspect;
pub mod leaks;
#[cfg(test)]
mod lt_reference;
pub mod mem;
pub mod parse;
pub mod paths;
pub mod reach;
pub mod release;
pub mod replicate;
pub mod scan;
pub mod seminca;
pub mod shapes;
pub mod sizes;
pub mod summary;
#[cfg(test)]
mod test_rng;
pub mod testheap;
pub mod timing;
#[doc(hidden)]
pub mod whole_heap;

pub use analysis::Heap;
pub use cancel::Interrupted;
pub use diff::{diff, DiffReport};
pub use error::{OpenError, ParseError};
pub use graph::Graph;
pub use leaks::{leaks, LeaksReport};
pub use summary::{summary, Summary};

/// Human-readable bytes: leakhound's one convention (`leakhound-fmt`: KiB, MiB, GiB).
pub fn fmt_bytes(b: u64) -> String {
    leakhound_fmt::bytes_u64(b)
}
