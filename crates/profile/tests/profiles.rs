//! Profiles written by real Node processes: the two fixtures (`node --heap-prof` on Node 20
//! and 26) and one made here, whose allocating line is known.

use std::path::{Path, PathBuf};
use std::process::Command;

use leakhound_profile::{parse, summarize, FrameKind, Profile};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/heapprofile")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn tree_total(profile: &Profile) -> f64 {
    let mut t = 0.0;
    let mut stack = vec![&profile.head];
    while let Some(n) = stack.pop() {
        t += n.self_size;
        stack.extend(n.children.iter());
    }
    t
}

#[test]
fn fixtures_from_node20_and_node26_add_up() {
    for name in [
        "node20-heap-prof.heapprofile",
        "node26-heap-prof.heapprofile",
    ] {
        let profile = parse(&fixture(name)).unwrap();
        let sum = summarize(&profile, None, 10);
        let total = tree_total(&profile);
        assert!(total > 100_000.0, "{name}");
        assert_eq!(sum.total_bytes, total.round() as u64, "{name}");
        assert!(!profile.samples.is_empty(), "{name}");
        // Every sampled byte is charged to exactly one culprit.
        let all = summarize(&profile, None, usize::MAX);
        let charged: u64 = all.top_culprits.iter().map(|c| c.bytes).sum();
        assert!(
            charged.abs_diff(all.total_bytes) <= all.top_culprits.len() as u64,
            "{name}"
        );
        assert!(sum.top_self.windows(2).all(|w| w[0].bytes >= w[1].bytes));
        assert!(sum
            .top_culprits
            .windows(2)
            .all(|w| w[0].bytes >= w[1].bytes));
    }
}

#[test]
fn a_profile_written_by_node_names_the_retaining_function() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("retain.js");
    // Line 3 (1-based) allocates what stays alive until exit (held by a global, since
    // `--heap-prof` writes only what is still reachable when the process ends).
    std::fs::write(
        &script,
        "'use strict';\nconst kept = (globalThis.kept = []);\nfunction retainThings(n) { for (let i = 0; i < n; i++) kept.push({ i, s: 'x'.repeat(40) + i }); }\nretainThings(200000);\nconsole.log(kept.length);\n",
    )
    .unwrap();
    let status = Command::new("node")
        .args([
            "--heap-prof",
            "--heap-prof-interval=4096",
            "--heap-prof-dir",
        ])
        .arg(dir.path())
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .expect("run node");
    assert!(status.status.success(), "{status:?}");
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "heapprofile"))
        .expect("node wrote a .heapprofile");
    let profile = parse(&std::fs::read(&file).unwrap()).unwrap();
    let base = dir.path().canonicalize().unwrap();
    let sum = summarize(&profile, Some(Path::new(&base)), 5);
    let top = &sum.top_culprits[0];
    assert_eq!(top.site.function, "retainThings", "{:#?}", sum.top_culprits);
    // `--heap-prof` loses user scripts' URLs at teardown; the function is still user code.
    assert_eq!(top.site.kind, FrameKind::User);
    assert!(top.share > 0.5, "retainThings holds {:.2}", top.share);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bad in [
        &b""[..],
        b"{",
        b"[]",
        b"{\"head\": 3}",
        b"\xff\xfe",
        b"{\"head\":{\"callFrame\":{}}",
    ] {
        assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn very_deep_trees_parse() {
    let depth = 5000;
    let mut json = String::from("{\"head\":");
    for i in 0..depth {
        json.push_str(&format!(
            "{{\"callFrame\":{{\"functionName\":\"f{i}\",\"url\":\"file:///x.js\",\"lineNumber\":{i},\"columnNumber\":0}},\"selfSize\":1,\"id\":{i},\"children\":["
        ));
    }
    for _ in 0..depth {
        json.push_str("]}");
    }
    json.push_str(",\"samples\":[]}");
    let p = parse(json.as_bytes()).unwrap();
    let s = summarize(&p, None, 3);
    assert_eq!(s.total_bytes, depth as u64);
    assert_eq!(s.top_culprits.len(), 3);
}
