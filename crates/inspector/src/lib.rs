//! A Chrome DevTools Protocol client for Node's inspector, over a WebSocket.
//!
//! Only what leakhound needs: `Runtime.evaluate` (by value), `HeapProfiler.collectGarbage`,
//! heap statistics. Every call carries a timeout because some methods are never answered
//! while the target's JS busy-loops (`collectGarbage` is queued as a non-nestable task).
//! The inspector runs arbitrary code in the target, so only loopback URLs are accepted.

mod banner;
mod client;
mod memory;

pub use banner::parse_banner;
pub use client::{CdpError, Inspector};
pub use memory::{HeapStatistics, MemoryUsage};
