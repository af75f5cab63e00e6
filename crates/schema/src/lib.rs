//! Every JSON document leakhound writes or reads, as typed structs and enums.
//!
//! One crate so that the producers (`session`, the binary), the renderers (`report`) and the
//! consumers (`compare`, the npm package's types, the published JSON Schemas under
//! `docs/schema/`) agree on one definition. Documents are versioned by their `schema` string;
//! changes are additive and keep `/v1`: existing field names and meanings never change.

pub mod alloc;
pub mod alloc_tree;
pub mod attach;
pub mod compare;
pub mod culprit;
pub mod endpoint;
pub mod evidence;
pub mod fleet;
pub mod gc;
pub mod heap;
pub mod load;
pub mod process;
pub mod published;
pub mod run;
pub mod verdict;

pub use verdict::{LeakKind, Phase, Verdict};
