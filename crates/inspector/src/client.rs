//! The WebSocket session: requests by id, answers routed back by a reader task.

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
use crate::message::{parse_message, CdpError, Event};
use crate::routes::{Routes, MAIN};

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;

/// One connection: the socket's write half, the reader task, and where answers and events go.
struct Conn {
    sink: tokio::sync::Mutex<Sink>,
    next_id: AtomicU64,
    reader: JoinHandle<()>,
    routes: Arc<Mutex<Routes>>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// One attached inspector session: the main thread's, or a worker thread's reached through the
/// main one (see [`Inspector::worker`]); both offer the same calls.
///
/// Node does not exit while a client is attached, so call [`Inspector::close`] on the main
/// session (or drop every handle) as soon as the target is done.
pub struct Inspector {
    conn: Arc<Conn>,
    /// `None` for the main thread, else the `NodeWorker` session id.
    session: Option<String>,
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
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let route = routes.clone();
        let reader = tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                let text = match msg {
                    Ok(Message::Text(t)) => t,
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                if let Some(v) = parse_message(&text) {
                    // Events are queued in order, before any later answer is routed: a caller
                    // woken by an answer finds every earlier event already queued.
                    route.lock().unwrap().dispatch(MAIN, v);
                }
            }
            // Wake every waiter: the connection is gone.
            route.lock().unwrap().close_all();
        });
        Ok(Inspector {
            conn: Arc::new(Conn {
                sink: tokio::sync::Mutex::new(sink),
                next_id: AtomicU64::new(1),
                reader,
                routes,
            }),
            session: None,
        })
    }

    /// Receive the events that arrive from now on (until the receiver is dropped or another
    /// subscription replaces this one). Without a subscriber events are dropped. A worker's
    /// handle receives that worker's events only.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.conn
            .routes
            .lock()
            .unwrap()
            .set_listener(self.key(), Some(tx));
        rx
    }

    /// Stop receiving events.
    pub fn unsubscribe(&self) {
        self.conn
            .routes
            .lock()
            .unwrap()
            .set_listener(self.key(), None);
    }

    fn key(&self) -> &str {
        self.session.as_deref().unwrap_or(MAIN)
    }

    /// The `NodeWorker` session id of a worker's handle; `None` on the main thread's.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Send `method` with `params` and wait for its result, at most `timeout`. On a worker's
    /// handle the message travels inside `NodeWorker.sendMessageToWorker` and its answer comes
    /// back in a `NodeWorker.receivedMessageFromWorker` event.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        let Some(sid) = self.session.as_deref() else {
            return self.request(MAIN, method, params, timeout, None).await;
        };
        self.request(sid, method, params, timeout, Some(sid)).await
    }

    /// One request on session `key`: for a worker (`via` its session id) the message is
    /// wrapped and the wrapper's own answer awaited on the main session first.
    async fn request(
        &self,
        key: &str,
        method: &str,
        params: Value,
        timeout: Duration,
        via: Option<&str>,
    ) -> Result<Value, CdpError> {
        let id = self.conn.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if !self.conn.routes.lock().unwrap().expect(key, id, tx) {
            // The worker has detached (its thread ended).
            return Err(CdpError::Closed);
        }
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        let sent = match via {
            None => self.send(msg, method, timeout).await,
            Some(sid) => {
                // Not recursive through `call`: the wrapper is a main-session request.
                Box::pin(self.request(
                    MAIN,
                    "NodeWorker.sendMessageToWorker",
                    json!({"sessionId": sid, "message": msg}),
                    timeout,
                    None,
                ))
                .await
                .map(|_| ())
            }
        };
        if let Err(e) = sent {
            self.conn.routes.lock().unwrap().forget(key, id);
            return Err(e);
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
                self.conn.routes.lock().unwrap().forget(key, id);
                Err(CdpError::Timeout {
                    method: method.to_string(),
                    timeout,
                })
            }
        }
    }

    async fn send(&self, msg: String, method: &str, timeout: Duration) -> Result<(), CdpError> {
        let sent = tokio::time::timeout(timeout, async {
            self.conn.sink.lock().await.send(Message::Text(msg)).await
        })
        .await;
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(CdpError::Closed),
            Err(_) => Err(CdpError::Timeout {
                method: method.to_string(),
                timeout,
            }),
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

    /// Detach, so the target may exit. On a worker's handle this only stops its events: the
    /// connection belongs to the main session.
    pub async fn close(self) {
        if self.session.is_some() {
            self.unsubscribe();
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let mut s = self.conn.sink.lock().await;
            let _ = s.send(Message::Close(None)).await;
            let _ = s.close().await;
        })
        .await;
        self.conn.reader.abort();
    }

    pub(crate) fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.conn.routes.lock().unwrap()
    }

    /// A handle on the worker attached as `session_id` (see [`Inspector::workers`]), sharing
    /// this connection. `None` when no such worker was ever attached.
    pub fn worker(&self, session_id: &str) -> Option<Inspector> {
        self.routes().knows(session_id).then(|| Inspector {
            conn: self.conn.clone(),
            session: Some(session_id.to_string()),
        })
    }
}
