//! A worker thread as the `NodeWorker` domain reports it.

use serde_json::Value;

/// A worker thread the inspector reported (`NodeWorker.attachedToWorker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerTarget {
    /// The session to address it by (`NodeWorker.sendMessageToWorker`).
    pub session_id: String,
    /// `workerInfo.workerId`.
    pub worker_id: String,
    /// `workerInfo.type` (`worker`).
    pub kind: String,
    /// `workerInfo.title` (`[worker 1] cache.js`, or the `name` given to `new Worker`).
    pub title: String,
    /// `workerInfo.url` (`file:///app/cache.js`).
    pub url: String,
    /// `false` once `NodeWorker.detachedFromWorker` came (the thread ended) or the
    /// connection closed.
    pub attached: bool,
}

impl WorkerTarget {
    pub(crate) fn from_event(params: &Value) -> Option<WorkerTarget> {
        let info = params.get("workerInfo")?;
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let session_id = s(params, "sessionId");
        if session_id.is_empty() {
            return None;
        }
        Some(WorkerTarget {
            session_id,
            worker_id: s(info, "workerId"),
            kind: s(info, "type"),
            title: s(info, "title"),
            url: s(info, "url"),
            attached: true,
        })
    }
}
