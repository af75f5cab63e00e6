//! Small synthetic snapshots built from lists of nodes and edges: the unit tests of the
//! analyses here and in the crates that read heaps (the heap at death) share this one builder
//! rather than each writing snapshot JSON by hand.
use crate::analysis::Heap;
use crate::parse::parse;

/// A snapshot from (type, name, self size) nodes and (from, edge type, name or index, to)
/// edges; node 0 is the synthetic root. Node ids are odd (JS) and `id_base + 2 * i + 1`.
pub fn heap(nodes: &[(&str, &str, u64)], edges: &[(usize, &str, &str, usize)]) -> Heap {
    heap_ids(nodes, edges, 0)
}

pub fn heap_ids(
    nodes: &[(&str, &str, u64)],
    edges: &[(usize, &str, &str, usize)],
    id_base: u64,
) -> Heap {
    let node_types = [
        "hidden",
        "array",
        "string",
        "object",
        "code",
        "closure",
        "regexp",
        "number",
        "native",
        "synthetic",
        "concatenated string",
        "sliced string",
    ];
    let edge_types = [
        "context", "element", "property", "internal", "hidden", "shortcut", "weak",
    ];
    let mut strings: Vec<String> = vec![String::new()];
    let mut intern = |s: &str| -> usize {
        strings.iter().position(|x| x == s).unwrap_or_else(|| {
            strings.push(s.to_string());
            strings.len() - 1
        })
    };
    let mut ns = Vec::new();
    for (i, (ty, name, size)) in nodes.iter().enumerate() {
        let t = node_types.iter().position(|x| x == ty).expect("node type");
        let count = edges.iter().filter(|e| e.0 == i).count();
        let id = if i == 0 {
            1
        } else {
            id_base + 2 * i as u64 + 1
        };
        ns.push(format!("{t},{},{id},{size},{count},0", intern(name)));
    }
    let mut sorted: Vec<_> = edges.to_vec();
    sorted.sort_by_key(|e| e.0);
    let mut es = Vec::new();
    for (_, ty, name, to) in &sorted {
        let t = edge_types.iter().position(|x| x == ty).expect("edge type");
        let n = if *ty == "element" || *ty == "hidden" {
            name.parse::<usize>().expect("an index")
        } else {
            intern(name)
        };
        es.push(format!("{t},{n},{}", to * 6));
    }
    let quoted: Vec<String> = strings
        .iter()
        .map(|s| serde_json::to_string(s).expect("a string"))
        .collect();
    let json = format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id"],"node_types":[{nt:?},"string","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[{et:?},"string_or_number","node"]}},"node_count":{},"edge_count":{}}},"nodes":[{}],"edges":[{}],"strings":[{}]}}"#,
        nodes.len(),
        sorted.len(),
        ns.join(","),
        es.join(","),
        quoted.join(","),
        nt = node_types,
        et = edge_types,
    );
    Heap::from_graph(parse(json.as_bytes()).expect("a valid snapshot"))
}
