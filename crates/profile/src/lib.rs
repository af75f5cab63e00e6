//! V8 sampling heap profiles: the `.heapprofile` files `node --heap-prof` writes and the
//! `HeapProfiler.getSamplingProfile` / `stopSampling` answers of the inspector (same shape).
//!
//! The question users bring is "which line of *my* code allocates", so beside the plain
//! per-frame self sizes every sampled byte is also charged to the nearest frame of user code on
//! its stack: `JSON.stringify` called from `processData` counts against `processData`'s line,
//! which is where the fix goes. Pure: bytes in, data out.

mod model;
mod sites;
pub mod sourcemap;
pub mod tree;

pub use model::{CallFrame, Profile, ProfileNode, Sample};
pub use sites::{summarize, summarize_mapped, AllocSummary, FrameKind, Generated, Site, SiteStat};
pub use sourcemap::SourceMaps;
pub use tree::{cut_tree, AllocTree, AllocTreeNode};

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The JSON is malformed or not shaped like a profile (serde's message says where).
    #[error("not a V8 sampling heap profile: {0}")]
    Json(String),
}

/// Parse a profile from its JSON text. Deeply nested call trees (stack depth 128 and more) are
/// parsed on a growing stack rather than hitting serde_json's recursion limit.
pub fn parse(bytes: &[u8]) -> Result<Profile, ProfileError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let de = serde_stacker::Deserializer::new(&mut de);
    let profile = <Profile as serde::Deserialize>::deserialize(de)
        .map_err(|e| ProfileError::Json(e.to_string()))?;
    Ok(profile)
}
