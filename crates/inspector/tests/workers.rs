//! Worker threads through the `NodeWorker` domain, against a real Node: the workers present at
//! attach and those started later are reported, each answers the main thread's calls (forced
//! GC, memory, sampling, snapshots) about its own isolate, and an ended one is marked.

mod common;

use std::time::{Duration, Instant};

use common::{rt, serial, start};
use leakhound_inspector::{CdpError, Inspector, SnapshotOptions, WorkerTarget};

const T: Duration = Duration::from_secs(5);

/// A main thread that starts one worker keeping every message it gets (about 100 KiB each),
/// and can start more on demand (`spawn()`), which exit when told (`stop()`).
const SCRIPT: &str = r#"
const { Worker } = require('worker_threads');
const code = `
  const { parentPort } = require('worker_threads');
  globalThis.kept = [];
  parentPort.on('message', (m) => { if (m === 'exit') process.exit(0); kept.push(new Array(12800).fill(m)); });
`;
const w1 = new Worker(code, { eval: true, name: 'keeper' });
globalThis.feed = (n) => { for (let i = 0; i < n; i++) w1.postMessage(i); return n; };
globalThis.spawn = () => { globalThis.w2 = new Worker(code, { eval: true, name: 'late' }); return 1; };
globalThis.stop = () => { globalThis.w2.postMessage('exit'); return 1; };
setInterval(() => {}, 1000);
"#;

/// Poll `ins.workers()` until `ok` holds, for at most 10 s.
async fn wait_workers(ins: &Inspector, ok: impl Fn(&[WorkerTarget]) -> bool) -> Vec<WorkerTarget> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let w = ins.workers();
        if ok(&w) {
            return w;
        }
        assert!(Instant::now() < deadline, "workers never got there: {w:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn workers_are_attached_measured_sampled_and_marked_when_they_end() {
    let _s = serial();
    let (_node, url) = start(SCRIPT, &[]);
    rt().block_on(async {
        let ins = Inspector::connect(&url, T).await.unwrap();
        assert!(ins.workers().is_empty());
        ins.enable_workers(T).await.unwrap();
        let ws = wait_workers(&ins, |w| !w.is_empty()).await;
        assert_eq!(ws[0].title, "[worker 1] keeper", "{ws:?}");
        assert_eq!(ws[0].kind, "worker");
        assert!(ws[0].attached);
        let w = ins
            .worker(&ws[0].session_id)
            .expect("a handle on the worker");
        assert_eq!(w.session_id(), Some(ws[0].session_id.as_str()));
        // Evaluation runs in the worker's isolate, not the main one.
        assert_eq!(
            w.evaluate("typeof globalThis.kept", T).await.unwrap(),
            "object"
        );
        assert_eq!(
            ins.evaluate("typeof globalThis.kept", T).await.unwrap(),
            "undefined"
        );

        // The worker's heap grows with what it keeps; the main thread's does not hold it.
        w.start_sampling(16384, false, T).await.unwrap();
        w.collect_garbage(T).await.unwrap();
        let before = w.memory_usage(T).await.unwrap();
        ins.evaluate("feed(200)", T).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while w.evaluate("kept.length", T).await.unwrap().as_u64() < Some(200) {
            assert!(
                Instant::now() < deadline,
                "the worker never got its messages"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        w.collect_garbage(T).await.unwrap();
        let after = w.memory_usage(T).await.unwrap();
        let grown = after.heap_used - before.heap_used;
        assert!(grown > 15.0 * 1048576.0, "worker heap grew {grown} bytes");
        ins.collect_garbage(T).await.unwrap();
        let main = ins.memory_usage(T).await.unwrap();
        assert!(main.heap_used < after.heap_used, "{main:?} vs {after:?}");
        let profile = w.stop_sampling(T).await.unwrap();
        let text = profile.to_string();
        assert!(text.contains("[worker eval]"), "{text:.300}");

        // A snapshot of the worker's isolate streams in chunks like the main one.
        let mut buf: Vec<u8> = Vec::new();
        let stats = w
            .take_heap_snapshot(&mut buf, SnapshotOptions::default())
            .await
            .unwrap();
        assert!(stats.chunks > 0 && stats.bytes as usize == buf.len());
        let snap: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert!(snap.pointer("/snapshot/meta/node_fields").is_some());

        // A worker started after NodeWorker.enable is attached; one that ends is marked.
        ins.evaluate("spawn()", T).await.unwrap();
        let ws = wait_workers(&ins, |w| w.len() == 2).await;
        assert_eq!(ws[1].title, "[worker 2] late");
        let late = ins.worker(&ws[1].session_id).unwrap();
        late.collect_garbage(T).await.unwrap();
        ins.evaluate("stop()", T).await.unwrap();
        let ws = wait_workers(&ins, |w| w.len() == 2 && !w[1].attached).await;
        assert!(ws[0].attached, "the first worker still runs: {ws:?}");
        assert!(matches!(
            late.collect_garbage(T).await,
            Err(CdpError::Closed)
        ));
        ins.close().await;
    });
}
