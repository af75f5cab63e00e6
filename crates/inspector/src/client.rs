//! The WebSocket session: requests by id, answers routed back by a reader task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::memory::{HeapStatistics, MemoryUsage};

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, CdpError>>>>>;
/// Where events go while someone listens (see [`Inspector::subscribe`]).
type Listener = Arc<Mutex<Option<mpsc::UnboundedSender<Event>>>>;

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

/// One attached inspector session.
///
/// Node does not exit while a client is attached, so call [`Inspector::close`] (or drop it)
/// as soon as the target is done.
pub struct Inspector {
    sink: tokio::sync::Mutex<Sink>,
    pending: Pending,
    next_id: AtomicU64,
    reader: JoinHandle<()>,
    listener: Listener,
}

impl Inspector {
    /// Connect to `ws://127.0.0.1:PORT/UUID`, within `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Inspector, CdpError> {
        let hostport = url
            .strip_prefix("ws://")
            .and_then(|r| r.split('/').next())
            .filter(|h| h.starts_with("127.0.0.1:") || h.starts_with("localhost:"))
            .ok_or_else(|| CdpError::BadUrl(url.to_string()))?
            .to_string();
        let mut req = url
            .into_client_request()
            .map_err(|e| CdpError::BadUrl(format!("{url}: {e}")))?;
        // The inspector's DNS-rebinding guard accepts only IP or localhost Host headers.
        req.headers_mut().insert(
            "Host",
            HeaderValue::from_str(&hostport).map_err(|_| CdpError::BadUrl(url.to_string()))?,
        );
        let (ws, _) = tokio::time::timeout(timeout, tokio_tungstenite::connect_async(req))
            .await
            .map_err(|_| CdpError::Connect(format!("timed out after {timeout:?}")))?
            .map_err(|e| CdpError::Connect(e.to_string()))?;
        let (sink, mut stream) = ws.split();
        let pending: Pending = Arc::default();
        let route = pending.clone();
        let listener: Listener = Arc::default();
        let events = listener.clone();
        let reader = tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                let text = match msg {
                    Ok(Message::Text(t)) => t,
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let Some(v) = parse_message(&text) else {
                    continue;
                };
                // Events go to the listener, in order, before any later answer is routed:
                // a caller woken by an answer finds every earlier event already queued.
                let Some(id) = v.get("id").and_then(Value::as_u64) else {
                    let tx = events.lock().unwrap();
                    if let (Some(tx), Some(m)) = (tx.as_ref(), v.get("method")) {
                        let _ = tx.send(Event {
                            method: m.as_str().unwrap_or_default().to_string(),
                            params: v.get("params").cloned().unwrap_or(Value::Null),
                        });
                    }
                    continue;
                };
                let tx = route.lock().unwrap().remove(&id);
                if let Some(tx) = tx {
                    let answer = match v.get("error") {
                        Some(e) => Err(CdpError::Protocol {
                            method: String::new(),
                            message: e
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("unknown error")
                                .to_string(),
                        }),
                        None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
                    };
                    let _ = tx.send(answer);
                }
            }
            // Wake every waiter: the connection is gone.
            route.lock().unwrap().clear();
        });
        Ok(Inspector {
            sink: tokio::sync::Mutex::new(sink),
            pending,
            next_id: AtomicU64::new(1),
            reader,
            listener,
        })
    }

    /// Receive the events that arrive from now on (until the receiver is dropped or another
    /// subscription replaces this one). Without a subscriber events are dropped.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.listener.lock().unwrap() = Some(tx);
        rx
    }

    /// Stop receiving events.
    pub fn unsubscribe(&self) {
        *self.listener.lock().unwrap() = None;
    }

    /// Send `method` with `params` and wait for its result, at most `timeout`.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        let sent = tokio::time::timeout(timeout, async {
            self.sink.lock().await.send(Message::Text(msg)).await
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                self.pending.lock().unwrap().remove(&id);
                return Err(CdpError::Closed);
            }
            Err(_) => {
                self.pending.lock().unwrap().remove(&id);
                return Err(CdpError::Timeout {
                    method: method.to_string(),
                    timeout,
                });
            }
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(CdpError::Protocol { message, .. }))) => Err(CdpError::Protocol {
                method: method.to_string(),
                message,
            }),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(CdpError::Closed),
            Err(_) => {
                self.pending.lock().unwrap().remove(&id);
                Err(CdpError::Timeout {
                    method: method.to_string(),
                    timeout,
                })
            }
        }
    }

    /// Evaluate `expr` in the target and return its value (`returnByValue`).
    pub async fn evaluate(&self, expr: &str, timeout: Duration) -> Result<Value, CdpError> {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true}),
                timeout,
            )
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            let text = ex
                .pointer("/exception/description")
                .and_then(Value::as_str)
                .or_else(|| ex.get("text").and_then(Value::as_str))
                .unwrap_or("exception");
            return Err(CdpError::Exception(
                text.lines().next().unwrap_or("").to_string(),
            ));
        }
        Ok(r.pointer("/result/value").cloned().unwrap_or(Value::Null))
    }

    /// A forced full GC. Not answered while JS is busy, hence the timeout.
    pub async fn collect_garbage(&self, timeout: Duration) -> Result<(), CdpError> {
        self.call("HeapProfiler.collectGarbage", json!({}), timeout)
            .await
            .map(|_| ())
    }

    /// `process.memoryUsage()` of the target.
    pub async fn memory_usage(&self, timeout: Duration) -> Result<MemoryUsage, CdpError> {
        let v = self.evaluate("process.memoryUsage()", timeout).await?;
        serde_json::from_value(v.clone()).map_err(|e| CdpError::Shape {
            method: "process.memoryUsage()".into(),
            detail: format!("{e}: {v}"),
        })
    }

    /// `v8.getHeapStatistics()`, through `process.getBuiltinModule` (Node 20.16+) or, on older
    /// Nodes, `process.mainModule.require` (CommonJS targets only).
    pub async fn heap_statistics(&self, timeout: Duration) -> Result<HeapStatistics, CdpError> {
        const EXPR: &str = "(typeof process.getBuiltinModule === 'function' \
            ? process.getBuiltinModule('v8') \
            : process.mainModule.require('v8')).getHeapStatistics()";
        let v = self.evaluate(EXPR, timeout).await?;
        serde_json::from_value(v.clone()).map_err(|e| CdpError::Shape {
            method: "v8.getHeapStatistics()".into(),
            detail: format!("{e}: {v}"),
        })
    }

    /// The target's process id, to tell apart the inspectors of `npm start` and its children.
    pub async fn pid(&self, timeout: Duration) -> Result<u32, CdpError> {
        let v = self.evaluate("process.pid", timeout).await?;
        v.as_u64().map(|p| p as u32).ok_or_else(|| CdpError::Shape {
            method: "process.pid".into(),
            detail: v.to_string(),
        })
    }

    /// Detach, so the target may exit.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let mut s = self.sink.lock().await;
            let _ = s.send(Message::Close(None)).await;
            let _ = s.close().await;
        })
        .await;
        self.reader.abort();
    }
}

/// One inspector message. Sampling profiles nest two JSON levels per stack frame (V8 keeps
/// up to 128 frames, more on request), beyond serde_json's default limit of 128 levels, so a
/// message refused for depth is parsed again on a growing stack.
fn parse_message(text: &str) -> Option<Value> {
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

impl Drop for Inspector {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
