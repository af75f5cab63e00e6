//! Bad snapshot files: one line naming the section and the byte offset, exit 2, no panic.
mod common;

use common::*;
use std::path::Path;

fn run_summary(path: &Path) -> (i32, String) {
    let out = leakhound()
        .args(["heap", "summary"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SMALL: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic"],"string","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]},"node_count":3,"edge_count":2,"trace_function_count":0},
"nodes":[9,0,1,0,1,0
,3,1,3,40,1,0
,2,2,5,5368709120,0,0],
"edges":[5,3,6
,2,4,12],
"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[],
"strings":["","Thing","huge\udc80","global","field"]}
"#;

#[test]
fn a_valid_tiny_snapshot_parses_with_u64_sizes_and_lossy_strings() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("ok.heapsnapshot");
    std::fs::write(&p, SMALL).unwrap();
    let out = leakhound()
        .args(["heap", "summary", "--json", "-"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 40 + 5 GiB: a u32 or an f64-less parser would lose this.
    assert_eq!(v["total_bytes"], 5_368_709_160u64);
    let h = leakhound_heap::Heap::open(&p).unwrap();
    assert_eq!(&h.graph.strings[2], "huge\u{FFFD}");
    assert_eq!(h.retained[1], 5_368_709_160);
}

#[test]
fn truncated_files_name_the_section_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (SMALL.find("\"nodes\"").unwrap() + 20, "section `nodes`"),
        (SMALL.find("\"edges\"").unwrap() + 15, "section `edges`"),
        (SMALL.find("\"strings\"").unwrap() + 14, "section `strings`"),
        (60, "section `header`"),
    ];
    for (cut, want) in cases {
        let p = tmp.path().join(format!("cut{cut}.heapsnapshot"));
        std::fs::write(&p, &SMALL[..cut]).unwrap();
        let (code, err) = run_summary(&p);
        assert_eq!(code, 2, "{err}");
        assert!(err.starts_with("leakhound: error: "), "{err}");
        assert!(
            err.contains(want) && err.contains("at byte") && err.contains("truncated"),
            "cut {cut}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn corrupt_files_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            SMALL.replace(",3,1,3,40,1,0", ",3,1,3,4x,1,0"),
            "section `nodes` at byte",
        ),
        (SMALL.replace("2,4,12]", "2,4,13]"), "not a multiple"),
        (SMALL.replace("2,4,12]", "2,4,120]"), "points to node"),
        (
            SMALL.replace("[9,0,1,0,1,0", "[99,0,1,0,1,0"),
            "node type 99",
        ),
        (String::from("not json"), "section `header` at byte 0"),
        (String::new(), "empty"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let p = tmp.path().join(format!("bad{i}.heapsnapshot"));
        std::fs::write(&p, text).unwrap();
        let (code, err) = run_summary(&p);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(want), "case {i}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let (code, err) = run_summary(&tmp.path().join("missing.heapsnapshot"));
    assert_eq!(code, 2);
    assert!(err.contains("missing.heapsnapshot"), "{err}");
}
