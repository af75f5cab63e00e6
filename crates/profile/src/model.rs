//! The profile as V8 writes it (CDP `HeapProfiler.SamplingHeapProfile`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Profile {
    pub head: ProfileNode,
    #[serde(default)]
    pub samples: Vec<Sample>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileNode {
    pub call_frame: CallFrame,
    /// Bytes allocated by this frame itself (sum of size × count of its samples).
    #[serde(default)]
    pub self_size: f64,
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub children: Vec<ProfileNode>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct CallFrame {
    #[serde(default)]
    pub function_name: String,
    #[serde(default)]
    pub script_id: String,
    #[serde(default)]
    pub url: String,
    /// Where the *function* starts (the sampling profiler has no per-allocation positions),
    /// in the code V8 ran: 0-based, -1 when unknown (built-ins). Mapped to the original source
    /// through the script's source map by [`crate::summarize_mapped`].
    #[serde(default = "minus_one")]
    pub line_number: i64,
    /// 0-based, -1 when unknown; the function's start, like `line_number`.
    #[serde(default = "minus_one")]
    pub column_number: i64,
}

fn minus_one() -> i64 {
    -1
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    pub size: f64,
    pub node_id: u64,
    #[serde(default)]
    pub ordinal: f64,
}
