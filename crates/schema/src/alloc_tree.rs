//! The sampling heap profiles' call trees, cut small for the run report's allocation flame
//! graph: the `.heapprofile` files can be megabytes, the page should not be.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::alloc::FrameKind;

/// Both profiles' trees (each absent when that profile was not taken).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AllocTrees {
    /// All allocations, garbage included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<AllocTree>,
    /// What survived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survivors: Option<AllocTree>,
}

/// One call tree, nodes in preorder: `nodes[0]` is the root, a node's children follow it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AllocTree {
    /// Sampled bytes in the whole profile.
    pub total_bytes: u64,
    /// Frames whose subtree allocated less than this are folded into their caller's
    /// `cut_bytes`.
    pub floor_bytes: u64,
    pub nodes: Vec<AllocTreeNode>,
}

/// One frame of a call tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AllocTreeNode {
    pub function: String,
    /// `file:line` where the function starts (1-based), as in `alloc_all`.
    pub location: String,
    pub kind: FrameKind,
    /// Bytes allocated by this frame itself.
    pub self_bytes: u64,
    /// Bytes allocated by this frame and everything it called.
    pub total_bytes: u64,
    /// Indices into `nodes` of the kept callees, biggest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<u32>,
    /// Bytes of callees too small to keep.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cut_bytes: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A few lines of the app's source around a line the culprit names, read when the run
/// ended (the report may be made later, elsewhere, after the code changed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SourceExcerpt {
    /// The `file:line` it surrounds, exactly as in the `SourceLine` that named it.
    pub location: String,
    /// The 1-based number of `lines[0]`.
    pub first_line: u32,
    /// The lines, each cut to 160 characters.
    pub lines: Vec<String>,
}
