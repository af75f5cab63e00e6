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

use crate::analysis::{Heap, Nodes};
use leakhound_schema::heap::{DuplicatedStrings, EmitterListeners};

/// The inspections `heap summary` adds: duplicated strings and listeners per emitter.
pub fn for_summary(h: &Heap) -> (Option<DuplicatedStrings>, Vec<EmitterListeners>) {
    finish(h, path_free(&h.tree().nodes()))
}

/// The part of [`for_summary`] that needs no retainer path, done beside the dominator pass:
/// the duplicated strings, and the listener rows without their paths.
pub struct PathFree {
    strings: DuplicatedStrings,
    listeners: listeners::Rows,
}

/// The inspections' work that needs only the per-node view (it runs beside the dominators).
pub fn path_free(h: &Nodes<'_>) -> PathFree {
    let t0 = std::time::Instant::now();
    let strings = strings::duplicated(h, TOP);
    crate::timing::timing("inspections: duplicated strings", t0);
    let t0 = std::time::Instant::now();
    let names = KnownNames::in_graph(h.graph);
    let listeners = listeners::rows(h, &names, TOP);
    crate::timing::timing("inspections: names + listener rows", t0);
    PathFree { strings, listeners }
}

/// [`for_summary`]'s result from its [`path_free`] part: the listener rows get their paths.
pub fn finish(h: &Heap, b: PathFree) -> (Option<DuplicatedStrings>, Vec<EmitterListeners>) {
    (Some(b.strings), listeners::render_rows(h, b.listeners))
}

/// How many rows each inspection keeps.
pub const TOP: usize = 10;
