//! HeapProfiler beyond `collectGarbage`: the sampling heap profiler and heap snapshots
//! streamed to a writer as they arrive.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::client::Inspector;
use crate::message::CdpError;

/// How to take a heap snapshot.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotOptions {
    /// The whole snapshot must be done within this time.
    pub timeout: Duration,
    /// With no progress for this long, pause the target's JS so a deferred snapshot can run
    /// (Node 22+ posts the snapshot as a task, which never runs while JS keeps the loop busy).
    pub stall_after: Duration,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            timeout: Duration::from_secs(120),
            stall_after: Duration::from_secs(2),
        }
    }
}

/// What a finished snapshot took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapshotStats {
    pub bytes: u64,
    pub chunks: u64,
    pub seconds: f64,
    /// Whether the stall workaround (`Debugger.pause`, then `Debugger.resume`) was used.
    pub paused: bool,
}

impl Inspector {
    /// Start the sampling heap profiler (one per isolate: fails when already started).
    /// `include_collected` keeps samples of objects that minor and major GCs have since freed,
    /// which shows hot-path garbage; without it only live objects are reported. Node 18's
    /// inspector ignores the flag (unknown parameters are dropped silently).
    pub async fn start_sampling(
        &self,
        interval_bytes: u64,
        include_collected: bool,
        timeout: Duration,
    ) -> Result<(), CdpError> {
        let mut params = json!({ "samplingInterval": interval_bytes as f64 });
        if include_collected {
            params["includeObjectsCollectedByMajorGC"] = json!(true);
            params["includeObjectsCollectedByMinorGC"] = json!(true);
        }
        self.call("HeapProfiler.startSampling", params, timeout)
            .await
            .map(|_| ())
    }

    /// The profile so far (`{head, samples}`, the `.heapprofile` format); sampling goes on.
    pub async fn sampling_profile(&self, timeout: Duration) -> Result<Value, CdpError> {
        let r = self
            .call("HeapProfiler.getSamplingProfile", json!({}), timeout)
            .await?;
        take_profile("HeapProfiler.getSamplingProfile", r)
    }

    /// Stop sampling and return the profile.
    pub async fn stop_sampling(&self, timeout: Duration) -> Result<Value, CdpError> {
        let r = self
            .call("HeapProfiler.stopSampling", json!({}), timeout)
            .await?;
        take_profile("HeapProfiler.stopSampling", r)
    }

    /// Take a heap snapshot and write its JSON to `out` chunk by chunk as the inspector sends
    /// it (chunks split anywhere, so the bytes are copied, never parsed), so the snapshot is
    /// never held whole in memory. When the snapshot makes no progress within
    /// `stall_after`, the target's JS is paused over `Debugger.pause` (the pending snapshot runs
    /// at the pause) and resumed once the snapshot is done.
    pub async fn take_heap_snapshot<W: AsyncWrite + Unpin>(
        &self,
        out: &mut W,
        opts: SnapshotOptions,
    ) -> Result<SnapshotStats, CdpError> {
        let t0 = Instant::now();
        let mut rx = self.subscribe();
        let mut stats = SnapshotStats {
            bytes: 0,
            chunks: 0,
            seconds: 0.0,
            paused: false,
        };
        let mut write_err: Option<String> = None;
        let mut progressed = false;
        let mut pause_requested = false;
        let call = self.call(
            "HeapProfiler.takeHeapSnapshot",
            json!({"reportProgress": true, "captureNumericValue": false}),
            opts.timeout,
        );
        tokio::pin!(call);
        let stall = tokio::time::sleep(opts.stall_after);
        tokio::pin!(stall);
        let mut open = true;
        let answer = loop {
            tokio::select! {
                biased;
                ev = rx.recv(), if open => match ev {
                    Some(ev) => {
                        progressed |= ev.method == "HeapProfiler.reportHeapSnapshotProgress"
                            || ev.method == "HeapProfiler.addHeapSnapshotChunk";
                        write_chunk(&ev, out, &mut stats, &mut write_err).await;
                    }
                    None => open = false,
                },
                r = &mut call => break r,
                () = &mut stall, if !progressed && !pause_requested => {
                    pause_requested = true;
                    stats.paused = true;
                    let t = Duration::from_secs(5);
                    if self.call("Debugger.enable", json!({}), t).await.is_ok() {
                        let _ = self.call("Debugger.pause", json!({}), t).await;
                    }
                }
            }
        };
        // Events before the answer are already queued (the reader routes in order).
        while let Ok(ev) = rx.try_recv() {
            write_chunk(&ev, out, &mut stats, &mut write_err).await;
        }
        self.unsubscribe();
        if pause_requested {
            // `resume` fails when the pause never took effect; `disable` then drops the
            // pending pause request and V8's near-heap-limit pause, so the target runs freely.
            let t = Duration::from_secs(5);
            let _ = self.call("Debugger.resume", json!({}), t).await;
            let _ = self.call("Debugger.disable", json!({}), t).await;
        }
        answer?;
        if let Some(e) = write_err {
            return Err(CdpError::Write(e));
        }
        out.flush()
            .await
            .map_err(|e| CdpError::Write(e.to_string()))?;
        stats.seconds = t0.elapsed().as_secs_f64();
        Ok(stats)
    }
}

async fn write_chunk<W: AsyncWrite + Unpin>(
    ev: &crate::message::Event,
    out: &mut W,
    stats: &mut SnapshotStats,
    write_err: &mut Option<String>,
) {
    if ev.method != "HeapProfiler.addHeapSnapshotChunk" || write_err.is_some() {
        return;
    }
    let Some(chunk) = ev.params.get("chunk").and_then(Value::as_str) else {
        return;
    };
    match out.write_all(chunk.as_bytes()).await {
        Ok(()) => {
            stats.bytes += chunk.len() as u64;
            stats.chunks += 1;
        }
        Err(e) => *write_err = Some(e.to_string()),
    }
}

fn take_profile(method: &str, mut r: Value) -> Result<Value, CdpError> {
    match r.get_mut("profile").map(Value::take) {
        Some(p) if p.get("head").is_some() => Ok(p),
        _ => Err(CdpError::Shape {
            method: method.into(),
            detail: "no profile.head in the answer".into(),
        }),
    }
}
