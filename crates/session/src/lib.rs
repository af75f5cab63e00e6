//! `leakhound run`: the target's lifecycle, the phases of load, the sampling after forced
//! full GCs, and the verdict statistics.
//!
//! Pure parts ([`stats`], [`verdict`], [`gclog`]) are separate from the edges that touch
//! processes and sockets ([`target`], [`run`]; the load itself is `leakhound-load`'s engine).

pub mod culprit;
pub mod gc_events;
pub mod gclog;
pub mod heap_flag;
pub mod procfs;
pub mod run;
pub mod source_lines;
pub mod startup;
pub mod stats;
pub mod target;
pub mod verdict;

pub use run::{exit_code, run, RunOptions, RunOutcome};
