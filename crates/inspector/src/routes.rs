//! Where the reader task sends what arrives: answers to the caller waiting for their id, events
//! to the session's listener, and the `NodeWorker` domain's envelopes unwrapped to the worker
//! session they belong to. The registry of worker threads lives here too, since it changes on
//! the same events (`attachedToWorker`, `detachedFromWorker`).

use std::collections::HashMap;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::message::{CdpError, Event};
use crate::worker_target::WorkerTarget;

/// The main thread's key (worker session ids are never empty).
pub(crate) const MAIN: &str = "";

type Answer = oneshot::Sender<Result<Value, CdpError>>;

/// One session's waiting callers and listener.
#[derive(Default)]
struct Session {
    pending: HashMap<u64, Answer>,
    listener: Option<mpsc::UnboundedSender<Event>>,
}

/// The routing table of one connection.
#[derive(Default)]
pub(crate) struct Routes {
    sessions: HashMap<String, Session>,
    /// Every worker seen since `NodeWorker.enable`, in attach order; ended ones stay, marked.
    workers: Vec<WorkerTarget>,
}

impl Routes {
    /// Route one message that arrived on session `key`.
    pub(crate) fn dispatch(&mut self, key: &str, v: Value) {
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            let tx = self
                .sessions
                .get_mut(key)
                .and_then(|s| s.pending.remove(&id));
            if let Some(tx) = tx {
                let _ = tx.send(answer(&v));
            }
            return;
        }
        let method = v.get("method").and_then(Value::as_str).unwrap_or_default();
        let params = v.get("params").cloned().unwrap_or(Value::Null);
        if key == MAIN {
            match method {
                "NodeWorker.receivedMessageFromWorker" => {
                    let sid = params.get("sessionId").and_then(Value::as_str);
                    let inner = params
                        .get("message")
                        .and_then(Value::as_str)
                        .and_then(crate::message::parse_message);
                    if let (Some(sid), Some(inner)) = (sid, inner) {
                        if !sid.is_empty() {
                            self.dispatch(sid, inner);
                        }
                    }
                    return;
                }
                "NodeWorker.attachedToWorker" => self.attached(&params),
                "NodeWorker.detachedFromWorker" => {
                    if let Some(sid) = params.get("sessionId").and_then(Value::as_str) {
                        self.detached(sid);
                    }
                }
                _ => {}
            }
        }
        if let Some(tx) = self.sessions.get(key).and_then(|s| s.listener.as_ref()) {
            let _ = tx.send(Event {
                method: method.to_string(),
                params,
            });
        }
    }

    fn attached(&mut self, params: &Value) {
        let Some(w) = WorkerTarget::from_event(params) else {
            return;
        };
        self.sessions.entry(w.session_id.clone()).or_default();
        match self
            .workers
            .iter_mut()
            .find(|x| x.session_id == w.session_id)
        {
            Some(x) => *x = w,
            None => self.workers.push(w),
        }
    }

    fn detached(&mut self, sid: &str) {
        if let Some(w) = self.workers.iter_mut().find(|w| w.session_id == sid) {
            w.attached = false;
        }
        // Its waiters learn the session is gone (their senders drop).
        if let Some(s) = self.sessions.get_mut(sid) {
            s.pending.clear();
            s.listener = None;
        }
    }

    /// Register a caller waiting for answer `id` on `key`; `false` when that worker is gone.
    pub(crate) fn expect(&mut self, key: &str, id: u64, tx: Answer) -> bool {
        if key != MAIN && !self.is_attached(key) {
            return false;
        }
        self.sessions
            .entry(key.to_string())
            .or_default()
            .pending
            .insert(id, tx);
        true
    }

    pub(crate) fn forget(&mut self, key: &str, id: u64) {
        if let Some(s) = self.sessions.get_mut(key) {
            s.pending.remove(&id);
        }
    }

    pub(crate) fn set_listener(&mut self, key: &str, tx: Option<mpsc::UnboundedSender<Event>>) {
        if key != MAIN && !self.is_attached(key) {
            return;
        }
        self.sessions.entry(key.to_string()).or_default().listener = tx;
    }

    /// The connection closed: every waiter, in every session, is woken.
    pub(crate) fn close_all(&mut self) {
        for s in self.sessions.values_mut() {
            s.pending.clear();
        }
        for w in &mut self.workers {
            w.attached = false;
        }
    }

    pub(crate) fn knows(&self, sid: &str) -> bool {
        self.workers.iter().any(|w| w.session_id == sid)
    }

    fn is_attached(&self, sid: &str) -> bool {
        self.workers
            .iter()
            .any(|w| w.session_id == sid && w.attached)
    }

    pub(crate) fn workers(&self) -> Vec<WorkerTarget> {
        self.workers.clone()
    }
}

fn answer(v: &Value) -> Result<Value, CdpError> {
    match v.get("error") {
        Some(e) => Err(CdpError::Protocol {
            method: String::new(),
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_string(),
        }),
        None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attach(r: &mut Routes, sid: &str) {
        r.dispatch(
            MAIN,
            json!({"method": "NodeWorker.attachedToWorker", "params": {
                "sessionId": sid, "waitingForDebugger": false,
                "workerInfo": {"workerId": "1", "type": "worker", "title": "[worker 1] w.js",
                               "url": "file:///app/w.js"}}}),
        );
    }

    #[test]
    fn a_worker_answer_reaches_its_caller_and_not_the_main_sessions() {
        let mut r = Routes::default();
        attach(&mut r, "s1");
        let (tx, mut rx) = oneshot::channel();
        assert!(r.expect("s1", 7, tx));
        let (mtx, mut mrx) = oneshot::channel();
        assert!(r.expect(MAIN, 7, mtx));
        let inner = json!({"id": 7, "result": {"x": 1}}).to_string();
        r.dispatch(
            MAIN,
            json!({"method": "NodeWorker.receivedMessageFromWorker",
                   "params": {"sessionId": "s1", "message": inner, "workerId": "1"}}),
        );
        assert_eq!(rx.try_recv().unwrap().unwrap(), json!({"x": 1}));
        assert!(
            mrx.try_recv().is_err(),
            "the main session's id 7 is still waiting"
        );
    }

    #[test]
    fn a_detached_worker_wakes_its_waiters_and_refuses_new_calls() {
        let mut r = Routes::default();
        attach(&mut r, "s1");
        let (tx, mut rx) = oneshot::channel();
        assert!(r.expect("s1", 1, tx));
        r.dispatch(
            MAIN,
            json!({"method": "NodeWorker.detachedFromWorker", "params": {"sessionId": "s1"}}),
        );
        assert!(matches!(
            rx.try_recv(),
            Err(oneshot::error::TryRecvError::Closed)
        ));
        let (tx, _rx) = oneshot::channel();
        assert!(!r.expect("s1", 2, tx));
        let w = r.workers();
        assert_eq!(w.len(), 1);
        assert!(!w[0].attached);
        assert_eq!(w[0].title, "[worker 1] w.js");
    }

    #[test]
    fn worker_events_go_to_the_workers_listener() {
        let mut r = Routes::default();
        attach(&mut r, "s1");
        let (tx, mut rx) = mpsc::unbounded_channel();
        r.set_listener("s1", Some(tx));
        let (mtx, mut mrx) = mpsc::unbounded_channel();
        r.set_listener(MAIN, Some(mtx));
        let inner = json!({"method": "HeapProfiler.addHeapSnapshotChunk",
                           "params": {"chunk": "{}"}})
        .to_string();
        r.dispatch(
            MAIN,
            json!({"method": "NodeWorker.receivedMessageFromWorker",
                   "params": {"sessionId": "s1", "message": inner}}),
        );
        assert_eq!(
            rx.try_recv().unwrap().method,
            "HeapProfiler.addHeapSnapshotChunk"
        );
        // The main listener saw the attach event only (it was subscribed after it): nothing.
        assert!(mrx.try_recv().is_err());
    }
}
