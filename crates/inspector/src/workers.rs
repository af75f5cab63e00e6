//! Worker threads through the inspector's `NodeWorker` domain: enable it, list the workers it
//! reports, and reach each through [`Inspector::worker`] with the same calls as the main
//! thread (forced GC, memory, sampling, snapshots).

use std::time::Duration;

use serde_json::json;

use crate::client::Inspector;
use crate::message::CdpError;
use crate::worker_target::WorkerTarget;

impl Inspector {
    /// `NodeWorker.enable` without pausing new workers: the existing worker threads and every
    /// later one are attached as they come (see [`Inspector::workers`]). Pausing them would
    /// stall the target until leakhound resumed each, for nothing it needs.
    pub async fn enable_workers(&self, timeout: Duration) -> Result<(), CdpError> {
        self.call(
            "NodeWorker.enable",
            json!({"waitForDebuggerOnStart": false}),
            timeout,
        )
        .await
        .map(|_| ())
    }

    /// Every worker thread reported since [`Inspector::enable_workers`], ended ones included
    /// (marked), in the order they attached.
    pub fn workers(&self) -> Vec<WorkerTarget> {
        self.routes().workers()
    }
}
