//! The memory figures read from the target, as Node reports them.

use serde::Deserialize;

/// `process.memoryUsage()`; all values in bytes.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MemoryUsage {
    pub rss: f64,
    pub heap_total: f64,
    pub heap_used: f64,
    pub external: f64,
    #[serde(default)]
    pub array_buffers: f64,
}

/// The part of `v8.getHeapStatistics()` leakhound reports.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
pub struct HeapStatistics {
    pub heap_size_limit: f64,
    pub used_heap_size: f64,
    pub total_heap_size: f64,
    #[serde(default)]
    pub external_memory: f64,
}
