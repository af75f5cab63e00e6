//! The sampling heap profiler and streamed heap snapshots against real Node processes.

mod common;

use std::time::Duration;

use common::{rt, serial, start};
use leakhound_inspector::{Inspector, SnapshotOptions};
use serde_json::Value;

const T: Duration = Duration::from_secs(10);

/// Bytes of all nodes named `name` in a profile tree (any depth), and the tree's depth.
fn bytes_of(p: &Value, name: &str) -> (f64, usize) {
    let mut total = 0.0;
    let mut depth = 0;
    let mut stack = vec![(&p["head"], 1usize)];
    while let Some((n, d)) = stack.pop() {
        depth = depth.max(d);
        if n["callFrame"]["functionName"] == name {
            total += n["selfSize"].as_f64().unwrap();
        }
        for c in n["children"].as_array().unwrap() {
            stack.push((c, d + 1));
        }
    }
    (total, depth)
}

// `churn` makes garbage, `keep` retains (through a 150-deep recursion, so the profile nests
// beyond serde_json's default depth limit).
const ALLOCATOR: &str = r#"
globalThis.kept = [];
function churn() { let a = []; for (let i = 0; i < 2000; i++) a.push({ i, s: 'x' + i }); return a.length; }
function keep(n) { if (n > 0) return keep(n - 1); kept.push(new Array(64).fill(n)); }
setInterval(() => { churn(); churn(); keep(150); }, 1);
"#;

#[test]
fn sampling_shows_garbage_only_when_asked_and_parses_deep_stacks() {
    let _lock = serial();
    let (_node, url) = start(ALLOCATOR, &[]);
    rt().block_on(async {
        let ins = Inspector::connect(&url, T).await.unwrap();
        ins.start_sampling(4096, true, T).await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        let all = ins.stop_sampling(T).await.unwrap();
        assert!(all["samples"].as_array().is_some_and(|s| !s.is_empty()));
        let (churn_all, depth) = bytes_of(&all, "churn");
        let (keep_all, _) = bytes_of(&all, "keep");
        assert!(
            depth > 100,
            "the keep() stack should nest deeply, got {depth}"
        );
        assert!(churn_all > 4.0 * keep_all, "{churn_all} vs {keep_all}");

        ins.start_sampling(4096, false, T).await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        ins.collect_garbage(T).await.unwrap();
        let live = ins.sampling_profile(T).await.unwrap();
        let live2 = ins.stop_sampling(T).await.unwrap();
        let (churn_live, _) = bytes_of(&live, "churn");
        let (keep_live, _) = bytes_of(&live, "keep");
        assert!(keep_live > 0.0, "retained allocations are sampled");
        assert!(
            churn_live < keep_live,
            "garbage is dropped without the include flags: churn {churn_live}, keep {keep_live}"
        );
        assert!(live2.get("head").is_some());
        // The answer is the .heapprofile format the profile crate reads.
        let text = serde_json::to_vec(&live).unwrap();
        let p = leakhound_profile_shape(&text);
        assert!(p, "head and samples");
        ins.close().await;
    });
}

fn leakhound_profile_shape(bytes: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let v: Value = serde::Deserialize::deserialize(&mut de).unwrap();
    v["head"]["callFrame"]["functionName"] == "(root)" && v["samples"].is_array()
}

#[test]
fn a_snapshot_streams_in_chunks_and_is_whole_json() {
    let _lock = serial();
    let (_node, url) = start(
        "globalThis.big = Array.from({length: 20000}, (_, i) => ({ i, name: 'n' + i })); setInterval(() => {}, 1000)",
        &[],
    );
    rt().block_on(async {
        let ins = Inspector::connect(&url, T).await.unwrap();
        let mut out: Vec<u8> = Vec::new();
        let stats = ins
            .take_heap_snapshot(&mut out, SnapshotOptions::default())
            .await
            .unwrap();
        assert_eq!(stats.bytes, out.len() as u64);
        assert!(stats.chunks > 1, "{stats:?}");
        assert!(!stats.paused, "an idle target needs no pause");
        let v: Value = serde_json::from_slice(&out).expect("the chunks join into one JSON");
        let fields = v["snapshot"]["meta"]["node_fields"].as_array().unwrap();
        let nodes = v["nodes"].as_array().unwrap();
        assert_eq!(
            nodes.len() as u64,
            v["snapshot"]["node_count"].as_u64().unwrap() * fields.len() as u64
        );
        // Events stop going anywhere once the snapshot is done; calls still work.
        assert_eq!(ins.evaluate("1 + 2", T).await.unwrap().as_i64(), Some(3));
        ins.close().await;
    });
}

#[test]
fn the_stall_workaround_pauses_and_resumes_the_target() {
    let _lock = serial();
    // Ticks every 10 ms, with a 1.5 s busy stretch in the middle.
    let (_node, url) = start(
        "globalThis.ticks = 0; setInterval(() => { ticks++; }, 10); \
         setTimeout(() => { const end = Date.now() + 1500; while (Date.now() < end) {} }, 300)",
        &[],
    );
    rt().block_on(async {
        let ins = Inspector::connect(&url, T).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let opts = SnapshotOptions {
            timeout: Duration::from_secs(60),
            // Pause at once, as if the snapshot had stalled.
            stall_after: Duration::ZERO,
        };
        let mut out: Vec<u8> = Vec::new();
        let stats = ins.take_heap_snapshot(&mut out, opts).await.unwrap();
        assert!(stats.paused, "the stall workaround was used: {stats:?}");
        serde_json::from_slice::<Value>(&out).expect("whole JSON");
        // Resumed and no longer paused on anything: the ticks go on.
        tokio::time::sleep(Duration::from_millis(1800)).await;
        let a = ins.evaluate("ticks", T).await.unwrap().as_i64().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let b = ins.evaluate("ticks", T).await.unwrap().as_i64().unwrap();
        assert!(b > a + 5, "ticks stalled: {a} -> {b}");
        // A second snapshot with the pause requested on an idle loop (it may never take
        // effect): the target must not stay paused afterwards either.
        let mut out: Vec<u8> = Vec::new();
        ins.take_heap_snapshot(&mut out, opts).await.unwrap();
        let a = ins.evaluate("ticks", T).await.unwrap().as_i64().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let b = ins.evaluate("ticks", T).await.unwrap().as_i64().unwrap();
        assert!(
            b > a + 5,
            "ticks stalled after the second snapshot: {a} -> {b}"
        );
        ins.close().await;
    });
}
