//! Inspections in the style of memlab and dotMemory, run by default beside the summary, the
//! diff and the three-snapshot comparison: duplicated strings ([`strings`]), listeners per
//! emitter ([`listeners`]) and collections that grew ([`collections`]).
//!
//! They read the analysed [`Heap`] only through its public arrays and accessors, in linear
//! passes over nodes or edges (no copy of string text, no per-node allocation), so they add a
//! few percent to `heap summary` on a production-sized snapshot (see docs/benchmarks-heap.md).

pub mod collections;
pub mod listeners;
pub mod names;
pub mod strings;

pub use names::{shorten, KnownNames};

use crate::analysis::Heap;
use leakhound_schema::heap::{DuplicatedStrings, EmitterListeners};

/// The inspections `heap summary` adds: duplicated strings and listeners per emitter.
pub fn for_summary(h: &Heap) -> (Option<DuplicatedStrings>, Vec<EmitterListeners>) {
    let t0 = std::time::Instant::now();
    let strings = strings::duplicated(h, TOP);
    crate::timing::timing("inspections: duplicated strings", t0);
    let t0 = std::time::Instant::now();
    let names = KnownNames::find(h);
    crate::timing::timing("inspections: names", t0);
    let listeners = listeners::listeners(h, &names, TOP);
    crate::timing::timing("inspections: names + listeners", t0);
    (Some(strings), listeners)
}

/// How many rows each inspection keeps.
pub const TOP: usize = 10;
