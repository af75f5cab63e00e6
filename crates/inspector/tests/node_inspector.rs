//! Against real Node processes: connect, evaluate, force a GC, read the heap limit, and stay
//! responsive (by timing out) when the target busy-loops.

mod common;

use std::time::{Duration, Instant};

use common::{rt, start};
use leakhound_inspector::{CdpError, Inspector};

const T: Duration = Duration::from_secs(5);

#[test]
fn evaluates_collects_garbage_and_reads_the_heap_limit() {
    let (_node, url) = start("setInterval(() => {}, 1000)", &["--max-old-space-size=64"]);
    rt().block_on(async {
        let ins = Inspector::connect(&url, T).await.unwrap();
        let v = ins.evaluate("21 * 2", T).await.unwrap();
        assert_eq!(v.as_i64(), Some(42));
        ins.collect_garbage(T).await.unwrap();
        let stats = ins.heap_statistics(T).await.unwrap();
        // old space 64 MB plus 3 semi-spaces: more than 64 MB, far below the default 4 GB.
        assert!(stats.heap_size_limit > 64.0 * 1048576.0, "{stats:?}");
        assert!(stats.heap_size_limit < 1024.0 * 1048576.0, "{stats:?}");
        let mem = ins.memory_usage(T).await.unwrap();
        assert!(mem.heap_used > 0.0 && mem.rss >= mem.heap_used, "{mem:?}");
        assert!(ins.pid(T).await.unwrap() > 0);
        match ins.evaluate("no_such_global.x", T).await {
            Err(CdpError::Exception(m)) => assert!(m.contains("no_such_global"), "{m}"),
            other => panic!("expected a ReferenceError, got {other:?}"),
        }
        ins.close().await;
    });
}

#[test]
fn a_busy_target_makes_collect_garbage_time_out_not_hang() {
    let (_node, url) = start("setTimeout(() => { for (;;) {} }, 300)", &[]);
    rt().block_on(async {
        let ins = Inspector::connect(&url, T).await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        // Runtime.evaluate is served by an interrupt even while JS loops...
        let v = ins.evaluate("1 + 1", T).await.unwrap();
        assert_eq!(v.as_i64(), Some(2));
        // ...but a forced GC waits for the loop to yield: it must time out, not hang.
        let t0 = Instant::now();
        let r = ins.collect_garbage(Duration::from_millis(700)).await;
        assert!(matches!(r, Err(CdpError::Timeout { .. })), "{r:?}");
        assert!(t0.elapsed() < Duration::from_secs(3));
        ins.close().await;
    });
}

#[test]
fn refuses_a_non_loopback_url() {
    rt().block_on(async {
        let r = Inspector::connect("ws://10.0.0.1:9229/x", T).await;
        assert!(matches!(r, Err(CdpError::BadUrl(_))));
    });
}

#[test]
fn a_dead_target_fails_fast() {
    let (mut node, url) = start("setInterval(() => {}, 1000)", &[]);
    let _ = node.0.kill();
    let _ = node.0.wait();
    rt().block_on(async {
        let r = Inspector::connect(&url, Duration::from_secs(2)).await;
        assert!(matches!(r, Err(CdpError::Connect(_))), "{:?}", r.err());
    });
}
