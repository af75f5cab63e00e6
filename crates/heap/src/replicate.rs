//! K copies of one snapshot's graph in one valid `.heapsnapshot`: how the benchmarks get 4 GB
//! snapshots that Node itself cannot write (a Node process needs several times the heap to
//! serialise it; a generator at that scale passed 19 GB of RSS before writing a byte).
//!
//! The copies share the string table (written once). Copy 0 keeps the original ids; copy
//! `c ≥ 1` numbers its nodes above every original id, by the rank of the original id among
//! the distinct ids (`base + 2 × ((c − 1) × distinct + rank) + parity`), so ids stay unique,
//! under 2^32 and keep their parity (JS object ids are odd, and `diff`/`leaks` rely on it).
//! A plain offset per copy does not fit: V8 gives a few native objects pointer-like ids near
//! 2^31. Node indices in edges are offset by `c` copies. The first copy's root gets, for
//! each other copy, one `element` edge to that copy's root and a copy of each of its own
//! edges pointing into that copy (to its `(GC roots)` and its user roots): every copy hangs
//! off the one root, and its objects keep their distances from the user roots, which
//! DevTools' rules depend on (objects only system roots reach are named and counted
//! differently). `heap summary` of the result is K× the totals of the original, with
//! (K − 1) × (1 + root edges) more edges. Sections after the edges
//! (`strings`, `locations`, …) are written once, unchanged: locations name nodes of copy 0.
//!
//! The output is written record by record (V8's one-record-per-line layout, which the
//! two-thread parse relies on), so the result can be far bigger than memory.

use crate::error::ParseError;
use crate::scan::{expect, scan_records, scan_string, skip_ws};
use std::io::Write;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replicated {
    pub nodes: u64,
    pub edges: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("writing the copy: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot replicate this snapshot: {0}")]
    Unsupported(String),
}

/// The source snapshot's arrays and where its pieces are.
struct Source {
    /// `buf[header.0..header.1]` is the `snapshot` object's text.
    header: (usize, usize),
    /// Position of the nodes array's `[` and the position after its `]`.
    nodes_at: usize,
    nodes_end: usize,
    edges_at: usize,
    edges_end: usize,
    nodes: Vec<u64>,
    edges: Vec<u64>,
    node_width: usize,
    edge_width: usize,
    n_id: usize,
    n_edges: usize,
    e_type: usize,
    e_name: usize,
    e_to: usize,
    element: u64,
    root: usize,
}

fn unsupported(msg: impl Into<String>) -> ReplicateError {
    ReplicateError::Unsupported(msg.into())
}

fn read_source(buf: &[u8]) -> Result<Source, ReplicateError> {
    let mut p = expect(buf, 0, b'{', "header")?;
    let (key, np) = scan_string(buf, p, "header")?;
    if key != "snapshot" {
        return Err(unsupported("the `snapshot` key does not come first"));
    }
    p = skip_ws(buf, expect(buf, np, b':', "header")?);
    let header_start = p;
    let mut de = serde_json::Deserializer::from_slice(&buf[p..]).into_iter::<serde_json::Value>();
    let header = match de.next() {
        Some(Ok(h)) => h,
        _ => return Err(unsupported("the header is not valid JSON")),
    };
    let header_end = p + de.byte_offset();
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let meta = &header["meta"];
    let node_fields = names(&meta["node_fields"]);
    let edge_fields = names(&meta["edge_fields"]);
    let edge_types = names(&meta["edge_types"][0]);
    let pos = |f: &[String], name: &str| {
        f.iter()
            .position(|x| x == name)
            .ok_or_else(|| unsupported(format!("snapshot.meta lacks `{name}`")))
    };
    let (n_id, n_edges) = (pos(&node_fields, "id")?, pos(&node_fields, "edge_count")?);
    let (e_type, e_name, e_to) = (
        pos(&edge_fields, "type")?,
        pos(&edge_fields, "name_or_index")?,
        pos(&edge_fields, "to_node")?,
    );
    let element = pos(&edge_types, "element")? as u64;
    let node_width = node_fields.len();
    let edge_width = edge_fields.len();
    let root_index = header["root_index"].as_u64().unwrap_or(0);

    // V8's order: the nodes and then the edges right after the header.
    let section = |p: usize, want: &str| -> Result<usize, ReplicateError> {
        let p = expect(buf, p, b',', "file")?;
        let (key, np) = scan_string(buf, skip_ws(buf, p), "file")?;
        if key != want {
            return Err(unsupported(format!(
                "expected the `{want}` section here, found `{key}` (not V8's layout)"
            )));
        }
        Ok(skip_ws(buf, expect(buf, np, b':', "file")?))
    };
    let read = |at: usize, name: &'static str, width: usize| {
        let mut v = Vec::new();
        let end = scan_records(
            buf,
            at,
            name,
            width,
            |r, _| {
                v.extend_from_slice(r);
                Ok(())
            },
            &|_, _| {},
        )?;
        Ok::<_, ParseError>((v, end))
    };
    let nodes_at = section(header_end, "nodes")?;
    let (nodes, nodes_end) = read(nodes_at, "nodes", node_width)?;
    let edges_at = section(nodes_end, "edges")?;
    let (edges, edges_end) = read(edges_at, "edges", edge_width)?;
    if !root_index.is_multiple_of(node_width as u64)
        || root_index / node_width as u64 >= (nodes.len() / node_width) as u64
    {
        return Err(unsupported(format!(
            "root_index {root_index} is not a node"
        )));
    }
    Ok(Source {
        header: (header_start, header_end),
        nodes_at,
        nodes_end,
        edges_at,
        edges_end,
        nodes,
        edges,
        node_width,
        edge_width,
        n_id,
        n_edges,
        e_type,
        e_name,
        e_to,
        element,
        root: (root_index / node_width as u64) as usize,
    })
}

/// Replace the number after `"key":` in a header's text.
fn set_count(header: &str, key: &str, value: u64) -> String {
    let pat = format!("\"{key}\":");
    let Some(at) = header.find(&pat) else {
        return header.to_string();
    };
    let from = at + pat.len();
    let digits = header[from..]
        .bytes()
        .take_while(|b| b.is_ascii_digit())
        .count();
    format!("{}{value}{}", &header[..from], &header[from + digits..])
}

/// Buffered record writer: numbers formatted by hand, the buffer flushed in large blocks.
struct Records<'w> {
    out: &'w mut dyn Write,
    buf: Vec<u8>,
    first: bool,
    written: u64,
}

impl<'w> Records<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        Records {
            out,
            buf: Vec::with_capacity(4 << 20),
            first: true,
            written: 0,
        }
    }

    fn raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 4 << 20 {
            self.flush()?;
        }
        Ok(())
    }

    /// One record: `\n,` before every record but the first of its array.
    fn record(&mut self, fields: &[u64]) -> std::io::Result<()> {
        if !self.first {
            self.buf.extend_from_slice(b"\n,");
        }
        self.first = false;
        for (i, &v) in fields.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let mut tmp = [0u8; 20];
            let mut k = tmp.len();
            let mut x = v;
            loop {
                k -= 1;
                tmp[k] = b'0' + (x % 10) as u8;
                x /= 10;
                if x == 0 {
                    break;
                }
            }
            self.buf.extend_from_slice(&tmp[k..]);
        }
        if self.buf.len() >= 4 << 20 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Each node's rank among the distinct ids (equal ids share a rank), and how many there are.
fn id_ranks(ids: &[u64]) -> (Vec<u32>, u64) {
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_unstable_by_key(|&i| ids[i as usize]);
    let mut rank = vec![0u32; ids.len()];
    let mut r = 0u32;
    for (j, &i) in order.iter().enumerate() {
        if j > 0 && ids[i as usize] != ids[order[j - 1] as usize] {
            r += 1;
        }
        rank[i as usize] = r;
    }
    (rank, if ids.is_empty() { 0 } else { u64::from(r) + 1 })
}

/// Write `k` copies of the snapshot in `src` to `out` (see the module docs).
pub fn replicate(src: &[u8], k: u32, out: &mut dyn Write) -> Result<Replicated, ReplicateError> {
    if k == 0 {
        return Err(unsupported("the copy count must be at least 1"));
    }
    let s = read_source(src)?;
    let (nw, ew) = (s.node_width, s.edge_width);
    let n = (s.nodes.len() / nw) as u64;
    let e = (s.edges.len() / ew) as u64;
    let k64 = u64::from(k);
    let ids: Vec<u64> = s.nodes.iter().skip(s.n_id).step_by(nw).copied().collect();
    let max_id = ids.iter().max().copied().unwrap_or(0);
    let base = (max_id + 2) & !1;
    let (rank, distinct) = id_ranks(&ids);
    if base + 2 * (k64 - 1) * distinct > u64::from(u32::MAX) {
        return Err(unsupported(format!(
            "{k} copies of {distinct} ids above {max_id} do not fit in 32 bits"
        )));
    }
    drop(ids);
    let declared: u64 = s.nodes.iter().skip(s.n_edges).step_by(nw).sum();
    if declared != e {
        return Err(unsupported(format!(
            "nodes declare {declared} edges, the edges section holds {e}"
        )));
    }
    let root_first: u64 = s
        .nodes
        .iter()
        .skip(s.n_edges)
        .step_by(nw)
        .take(s.root)
        .sum();
    let root_edges = s.nodes[s.root * nw + s.n_edges];
    let root_end = root_first + root_edges;
    let links = (k64 - 1) * (1 + root_edges);
    let (nodes_total, edges_total) = (n * k64, e * k64 + links);

    let header = std::str::from_utf8(&src[s.header.0..s.header.1])
        .map_err(|_| unsupported("the header is not UTF-8"))?;
    let header = set_count(header, "node_count", nodes_total);
    let header = set_count(&header, "edge_count", edges_total);

    let mut w = Records::new(out);
    w.raw(&src[..s.header.0])?;
    w.raw(header.as_bytes())?;
    w.raw(&src[s.header.1..=s.nodes_at])?;
    let mut rec = vec![0u64; nw.max(ew)];
    for c in 0..k64 {
        for (i, node) in s.nodes.chunks_exact(nw).enumerate() {
            rec[..nw].copy_from_slice(node);
            if c > 0 {
                let parity = node[s.n_id] & 1;
                rec[s.n_id] = base + 2 * ((c - 1) * distinct + u64::from(rank[i])) + parity;
            }
            if c == 0 && i == s.root {
                rec[s.n_edges] += links;
            }
            w.record(&rec[..nw])?;
        }
    }
    // From the nodes' `]` to the edges' `[`.
    w.raw(&src[s.nodes_end - 1..=s.edges_at])?;
    w.first = true;
    let root_links = |w: &mut Records, rec: &mut Vec<u64>| -> std::io::Result<()> {
        for other in 1..k64 {
            rec[..ew].fill(0);
            rec[s.e_type] = s.element;
            rec[s.e_name] = other - 1;
            rec[s.e_to] = (other * n + s.root as u64) * nw as u64;
            w.record(&rec[..ew])?;
            let own = root_first as usize * ew..root_end as usize * ew;
            for edge in s.edges[own].chunks_exact(ew) {
                rec[..ew].copy_from_slice(edge);
                rec[s.e_to] += other * n * nw as u64;
                w.record(&rec[..ew])?;
            }
        }
        Ok(())
    };
    for c in 0..k64 {
        for (j, edge) in s.edges.chunks_exact(ew).enumerate() {
            if c == 0 && j as u64 == root_end {
                root_links(&mut w, &mut rec)?;
            }
            rec[..ew].copy_from_slice(edge);
            rec[s.e_to] += c * n * nw as u64;
            w.record(&rec[..ew])?;
        }
        if c == 0 && root_end == e {
            root_links(&mut w, &mut rec)?;
        }
    }
    // The edges' `]` and everything after it (strings and the rest), once.
    w.raw(&src[s.edges_end - 1..])?;
    w.flush()?;
    w.out.flush()?;
    Ok(Replicated {
        nodes: nodes_total,
        edges: edges_total,
        bytes: w.written,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::Heap;

    /// A root with two children (a synthetic "(GC roots)" and an object), one more object
    /// held by the first, and a string; V8's layout and field order.
    pub(crate) const SMALL: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]},"node_count":5,"edge_count":4,"trace_function_count":0},
"nodes":[9,0,1,0,2,0,0
,3,1,3,100,2,0,0
,3,2,5,40,0,0,0
,2,3,7,24,0,0,0
,3,4,9,16,0,0,0],
"edges":[2,5,7
,1,0,28
,2,6,14
,2,7,21],
"locations":[],
"strings":["","Foo","Bar","hello","Baz","a","b","c"]}"#;

    #[test]
    fn three_copies_sum_to_three_times_the_totals() {
        let one = crate::parse::parse(SMALL.as_bytes()).unwrap();
        let h1 = Heap::from_graph(one);
        let mut out = Vec::new();
        let r = replicate(SMALL.as_bytes(), 3, &mut out).unwrap();
        // 3 × 4 edges, and for each of the two other copies a link to its root and copies
        // of the root's two edges.
        assert_eq!((r.nodes, r.edges, r.bytes), (15, 18, out.len() as u64));
        let g3 = crate::parse::parse(&out).unwrap();
        // Ids unique, parity kept.
        let mut ids = g3.node_id.clone();
        assert!(g3.node_id[5..].iter().all(|&i| i % 2 == 1));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 15);
        let h3 = Heap::from_graph(g3);
        assert_eq!(h1.total, 180);
        assert_eq!(h3.total, 3 * h1.total);
        let (s1, s3) = (crate::summary(&h1, 10), crate::summary(&h3, 10));
        assert_eq!(s3.node_count, 3 * s1.node_count);
        assert_eq!(s3.edge_count, 3 * s1.edge_count + 6);
        for row in &s1.top_by_self {
            let r3 = s3
                .top_by_self
                .iter()
                .find(|r| r.class == row.class)
                .unwrap();
            assert_eq!(
                (r3.count, r3.self_bytes),
                (3 * row.count, 3 * row.self_bytes)
            );
        }
        // One copy is the original, byte for byte.
        let mut same = Vec::new();
        replicate(SMALL.as_bytes(), 1, &mut same).unwrap();
        assert_eq!(String::from_utf8(same).unwrap(), SMALL);
    }

    #[test]
    fn ids_that_do_not_fit_are_refused() {
        let big = SMALL.replace(",3,4,9,16,0,0,0]", ",3,4,4294967291,16,0,0,0]");
        let e = replicate(big.as_bytes(), 2, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("32 bits"), "{e}");
        assert!(replicate(b"{\"x\":1}", 2, &mut Vec::new()).is_err());
    }
}
