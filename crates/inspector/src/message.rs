//! What travels on an inspector connection, independent of who sends it: the events, the
//! errors, and the parsing of one message (shared by the connection and its router).

use std::time::Duration;

use serde_json::Value;

/// A CDP event (a message without an id), e.g. `HeapProfiler.addHeapSnapshotChunk`.
#[derive(Debug, Clone)]
pub struct Event {
    pub method: String,
    pub params: Value,
}

/// What can go wrong talking to an inspector.
#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    #[error("inspector URL {0} is not a loopback ws:// URL")]
    BadUrl(String),
    #[error("cannot connect to the inspector: {0}")]
    Connect(String),
    #[error("{method} got no answer within {timeout:?}")]
    Timeout { method: String, timeout: Duration },
    #[error("the inspector connection closed")]
    Closed,
    #[error("{method} failed: {message}")]
    Protocol { method: String, message: String },
    #[error("evaluation threw: {0}")]
    Exception(String),
    #[error("writing the output: {0}")]
    Write(String),
    #[error("unexpected answer to {method}: {detail}")]
    Shape { method: String, detail: String },
}

/// One inspector message. Sampling profiles nest two JSON levels per stack frame (V8 keeps
/// up to 128 frames, more on request), beyond serde_json's default limit of 128 levels, so a
/// message refused for depth is parsed again on a growing stack.
pub(crate) fn parse_message(text: &str) -> Option<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Some(v),
        Err(_) => {
            let mut de = serde_json::Deserializer::from_str(text);
            de.disable_recursion_limit();
            let de = serde_stacker::Deserializer::new(&mut de);
            <Value as serde::Deserialize>::deserialize(de).ok()
        }
    }
}
