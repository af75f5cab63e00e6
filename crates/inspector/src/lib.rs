//! A Chrome DevTools Protocol client for Node's inspector, over a WebSocket.
//!
//! Only what leakhound needs: `Runtime.evaluate` (by value), `HeapProfiler.collectGarbage`,
//! heap statistics, the sampling heap profiler and heap snapshots streamed to disk. Every call
//! carries a timeout because some methods are never answered while the target's JS busy-loops
//! (`collectGarbage` is queued as a non-nestable task).
//! Worker threads are reached through the main session's `NodeWorker` domain
//! ([`Inspector::enable_workers`], [`Inspector::worker`]) with the same calls.
//! The inspector runs arbitrary code in the target, so only loopback URLs are accepted.

mod banner;
mod client;
mod memory;
mod message;
mod profiler;
mod routes;
mod worker_target;
mod workers;

pub use banner::parse_banner;
pub use client::Inspector;
pub use memory::{HeapStatistics, MemoryUsage};
pub use message::{CdpError, Event};
pub use profiler::{SnapshotOptions, SnapshotStats};
pub use worker_target::WorkerTarget;
