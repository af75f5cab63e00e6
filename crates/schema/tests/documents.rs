//! Every document, produced by its real producer, survives a round trip through its type
//! (what the code writes, the code reads back unchanged) and is valid against the JSON Schema
//! published under `docs/schema/`.

use leakhound_schema::run::{self, AllocSiteOut, GcEventOut, RunReport, RunSample};
use leakhound_schema::{LeakKind, Phase, Verdict};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Serialise, parse back, compare; serialise again and compare the text. Then validate the
/// JSON against `docs/schema/<stem>.schema.json`.
fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(stem: &str, doc: &T) {
    let text = serde_json::to_string_pretty(doc).unwrap();
    let back: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{stem}: what the code writes does not parse: {e}\n{text}"));
    assert_eq!(&back, doc, "{stem}: round trip changed the document");
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text, "{stem}");

    let path = repo().join(format!("docs/schema/{stem}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{}: not a valid JSON Schema: {e}", path.display()));
    let instance: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{stem}: {errors:#?}");
}

fn gc_analysis(name: &str) -> leakhound_gctrace::GcAnalysis {
    let bytes = std::fs::read(repo().join("tests/fixtures/gc-traces").join(name)).unwrap();
    let mut a = leakhound_gctrace::Analyzer::new();
    a.push_bytes(&bytes);
    a.finish();
    a.analysis()
}

/// A local HTTP/1.1 server answering `200 ok` to every request (keep-alive), for the load
/// engine to measure. Bounded by the requests the test sends.
fn serve_ok() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    let n = match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..i + 4);
                        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                        if s.write_all(ok).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

fn load_summary(url: &str, requests: u64) -> leakhound_load::Summary {
    let mut plan = leakhound_load::Plan::from_url(url).unwrap();
    plan.connections = 2;
    let mut engine = leakhound_load::Engine::new(plan).unwrap();
    engine.run_round(leakhound_load::Bounds::requests(requests));
    engine.summary()
}

fn alloc_summary(name: &str) -> leakhound_profile::AllocSummary {
    let bytes = std::fs::read(repo().join("tests/fixtures/heapprofile").join(name)).unwrap();
    let profile = leakhound_profile::parse(&bytes).unwrap();
    leakhound_profile::summarize(&profile, Some(Path::new("/")), 5)
}

/// A run result with every optional part filled by the real producers' output.
fn run_report(bytes_per_request: f64, verdict: Verdict) -> RunReport {
    let samples: Vec<RunSample> = (0..12)
        .map(|i| RunSample {
            t_s: i as f64 * 2.5,
            requests: i * 1000,
            heap_used: 20_000_000 + (bytes_per_request * (i * 1000) as f64) as u64 + i % 3 * 7000,
            external: 1_000_000,
            array_buffers: 10_000,
            rss: 60_000_000,
            phase: if i < 2 { Phase::Warmup } else { Phase::Load },
        })
        .collect();
    let alloc = alloc_summary("node20-heap-prof.heapprofile");
    let trace = gc_analysis("node22-leak-oom.log");
    RunReport {
        schema: run::SCHEMA.into(),
        verdict,
        leak_kind: if verdict == Verdict::Leak {
            LeakKind::JsHeap
        } else {
            LeakKind::None
        },
        duration_s: 30.0,
        requests: 11_000,
        retained_bytes_per_request: bytes_per_request,
        retained_bytes_per_request_ci: Some([bytes_per_request - 20.0, bytes_per_request + 20.0]),
        heap_limit_bytes: 128 << 20,
        evidence: vec!["heap grows".into()],
        samples,
        requests_per_second: 366.7,
        gc_time_share: trace.gc_share,
        gc_count: trace.gc_events,
        major_gc_count: trace.live_set.major_gcs,
        gc_last_lines: trace.last_gc_lines.clone(),
        gc_events: vec![GcEventOut {
            t_s: 1.5,
            collector: leakhound_gctrace::Collector::MarkCompact,
            before_mb: 30.0,
            after_mb: 10.0,
            pause_ms: 12.5,
            freed_share: 2.0 / 3.0,
        }],
        alloc_all: alloc.top_culprits.iter().map(AllocSiteOut::from).collect(),
        alloc_survivors: alloc.top_self.iter().map(AllocSiteOut::from).collect(),
        gc_trace: Some(trace),
        load: Some(load_summary(
            &format!("http://127.0.0.1:{}/api", serve_ok()),
            20,
        )),
        warnings: vec!["2 of 20 responses were 500".into()],
        ..Default::default()
    }
}

#[test]
fn gc_documents_of_real_logs() {
    for name in [
        "node20-steady.log",
        "node22-leak-oom.log",
        "node26-leak-oom.log",
        "node24-nvp.log",
        "node26-steady.log",
    ] {
        let an = gc_analysis(name);
        assert_eq!(an.schema, leakhound_schema::gc::SCHEMA);
        check("gc", &an);
    }
}

#[test]
fn load_documents_of_real_rounds() {
    let _s = serial();
    let ok = load_summary(&format!("http://127.0.0.1:{}/x", serve_ok()), 30);
    assert_eq!(ok.successful, 30, "{ok}");
    assert!(ok.latency.is_some());
    check("load", &ok);
    // Nothing listening: every request is a transport error, no latency.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = load_summary(&format!("http://127.0.0.1:{closed}/x"), 4);
    assert_eq!(refused.successful, 0, "{refused}");
    assert!(refused.latency.is_none());
    assert!(refused.errors.values().sum::<u64>() > 0);
    check("load", &refused);
    // The error map keeps the key order it had when its keys were strings.
    let text = serde_json::to_string(&refused.errors).unwrap();
    let keys: Vec<&str> = text.split('"').skip(1).step_by(2).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
}

#[test]
fn alloc_documents_of_real_profiles() {
    for name in [
        "node20-heap-prof.heapprofile",
        "node26-heap-prof.heapprofile",
    ] {
        let s = alloc_summary(name);
        assert_eq!(s.schema, leakhound_schema::alloc::SCHEMA);
        assert!(!s.top_culprits.is_empty());
        check("alloc", &s);
    }
}

#[test]
fn run_and_compare_documents() {
    let _s = serial();
    let before = run_report(1000.0, Verdict::Leak);
    let after = run_report(0.5, Verdict::NoLeak);
    check("run", &before);
    check("run", &after);
    // What `compare` and `report` read back is what `run` wrote.
    let text = serde_json::to_vec(&before).unwrap();
    assert_eq!(run::from_json(&text).unwrap(), before);

    let c = leakhound_report::compare::compare(&before, &after);
    assert_eq!(c.schema, leakhound_schema::compare::SCHEMA);
    assert_eq!(
        c.verdict,
        leakhound_schema::compare::Verdict::FixProven,
        "{:?}",
        c.reasons
    );
    check("compare", &c);
    check(
        "compare",
        &leakhound_report::compare::compare(&after, &before),
    );
}

/// The same cross-process lock as `crates/leakhound/tests/common` (`serial()`): tests that start
/// Node take turns on the two cores.
fn serial() -> std::fs::File {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("leakhound-serial-tests.lock"))
        .unwrap();
    // SAFETY: flock on a descriptor we own; blocks until the other test releases it.
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    f
}

/// Three snapshots Node writes from a script: before, after and long after 5000 objects
/// were kept (and 5000 more).
const GROWING: &str = "const v8 = require('v8');
class Kept { constructor(i) { this.i = i; this.s = 'kept-' + i; } }
const keep = [];
globalThis.keep = keep;
v8.writeHeapSnapshot(process.argv[2]);
for (let i = 0; i < 5000; i++) keep.push(new Kept(i));
v8.writeHeapSnapshot(process.argv[3]);
for (let i = 0; i < 5000; i++) keep.push(new Kept(i));
v8.writeHeapSnapshot(process.argv[4]);
";

#[test]
fn heap_documents_of_real_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("growing.js");
    std::fs::write(&script, GROWING).unwrap();
    let snaps: Vec<PathBuf> = (1..=3)
        .map(|i| dir.path().join(format!("s{i}.heapsnapshot")))
        .collect();
    {
        let _s = serial();
        let st = std::process::Command::new("node")
            .arg(&script)
            .args(&snaps)
            .status()
            .expect("node runs");
        assert!(st.success());
    }
    let heaps: Vec<leakhound_heap::Heap> = snaps
        .iter()
        .map(|p| leakhound_heap::Heap::open(p).unwrap())
        .collect();
    let summary = leakhound_heap::summary(&heaps[2], 10);
    assert_eq!(summary.schema, leakhound_schema::heap::SUMMARY_SCHEMA);
    assert!(summary.top_by_retained.iter().any(|c| c.class == "Kept"));
    check("heap.summary", &summary);
    let diff = leakhound_heap::diff(&heaps[0], &heaps[2]);
    assert!(diff
        .classes
        .iter()
        .any(|c| c.class == "Kept" && c.new_count == 10_000));
    check("heap.diff", &diff);
    let leaks = leakhound_heap::leaks(&heaps[0], &heaps[1], &heaps[2]);
    assert!(leaks
        .groups
        .iter()
        .any(|g| g.class == "Kept" && g.instances == 5000));
    check("heap.leaks", &leaks);
}

#[test]
fn a_document_breaking_its_schema_is_refused() {
    let mut v = serde_json::to_value(gc_analysis("node20-steady.log")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("docs/schema/gc.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&v));
    v["verdict"] = "maybe".into();
    assert!(!validator.is_valid(&v));
    v["verdict"] = "healthy".into();
    v["schema"] = "leakhound.gc/v2".into();
    assert!(!validator.is_valid(&v), "the schema string is pinned");
}

/// `leakhound.attach/v1` with every field filled (the producer needs a live Node process;
/// `crates/leakhound/tests/attach.rs` checks the real documents' figures).
#[test]
fn attach_document_with_every_field() {
    use leakhound_schema::attach::*;
    let mib = 1048576.0;
    let samples: Vec<AttachSample> = (0..7)
        .map(|k| AttachSample {
            t_s: 5.0 * k as f64,
            heap_used: (4.0 + 3.5 * k as f64) * mib,
            heap_total: 64.0 * mib,
            external: 1.7 * mib,
            rss: 50.0 * mib,
            after_forced_gc: true,
            gc_pause_s: Some(0.004),
        })
        .collect();
    let doc = AttachReport {
        schema: SCHEMA.into(),
        verdict: Verdict::Leak,
        reason: "the post-GC heap moved +21.0 MiB in 30 s".into(),
        pid: 4242,
        inspector: "127.0.0.1:9229".into(),
        opened_inspector: true,
        node_version: Some("v20.20.2".into()),
        method: AttachMethod::ForcedGc,
        duration_s: 30.0,
        sample_every_s: 5.0,
        watched_s: 30.3,
        floor: samples
            .iter()
            .map(|s| FloorPoint {
                t_s: s.t_s,
                heap_used: s.heap_used,
            })
            .collect(),
        samples,
        slope_bytes_per_second: Some(0.7 * mib),
        slope_ci_bytes_per_second: Some([0.6 * mib, 0.8 * mib]),
        bytes_per_hour: Some(2520.0 * mib),
        ci_bytes_per_hour: Some([2160.0 * mib, 2880.0 * mib]),
        r_squared: Some(0.999),
        mann_kendall_p: Some(0.0013),
        heap_limit_bytes: Some(4144.0 * mib),
        time_to_oom_s: Some(5800.0),
        gc: GcActivity {
            count: 436,
            major_count: 23,
            pause_s: 3.1,
            share: Some(0.102),
        },
        alloc_survivors: vec![AllocSiteOut {
            function: "handler".into(),
            location: "app.js:22".into(),
            bytes: 41 << 20,
            share: 0.91,
            generated: None,
        }],
        alloc_sampling_interval: Some(32768),
        suspects: vec![run::SuspectOut {
            title: "104687 (concatenated string) objects".into(),
            bytes: 40 << 20,
            percent: 80.0,
            path: vec!["(GC roots)".into(), "sessions (Array)".into()],
            full_path: Vec::new(),
            signature: String::new(),
            source: Vec::new(),
        }],
        snapshots: vec![SnapshotOut {
            path: "snaps/attach-1-start.heapsnapshot".into(),
            bytes: 5 << 20,
            pause_s: 0.62,
            t_s: 0.1,
        }],
        notes: vec!["a note".into()],
    };
    check("attach", &doc);
}
