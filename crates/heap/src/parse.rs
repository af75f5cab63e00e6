//! From bytes to a [`Graph`]: serde_json for the small header, hand-written scanners for the
//! big arrays, and checks that every index points somewhere, so later stages never panic.

use crate::error::{OpenError, ParseError};
use crate::graph::{Graph, Strings};
use crate::scan::{
    expect, scan_range, scan_records_into, scan_string, scan_string_array, skip_ws, RangeEnd,
    Records,
};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Header {
    meta: Meta,
    node_count: Option<u64>,
    edge_count: Option<u64>,
    root_index: Option<u64>,
}

#[derive(Deserialize)]
struct Meta {
    node_fields: Vec<String>,
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
}

fn type_names(v: &[serde_json::Value]) -> Vec<String> {
    match v.first() {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Read and parse a `.heapsnapshot` file through a memory map. Pages already scanned are
/// dropped as the scan proceeds, so a 1 GB file does not sit in RSS next to its graph.
pub fn read_file(path: &Path) -> Result<Graph, OpenError> {
    let file = std::fs::File::open(path).map_err(OpenError::io("opening", path))?;
    let len = file
        .metadata()
        .map_err(OpenError::io("reading", path))?
        .len();
    if len == 0 {
        return Err(ParseError::new("file", 0, "the file is empty").into());
    }
    // SAFETY: the map is read-only; a file truncated underneath us could SIGBUS, which is the
    // accepted risk of every mmap reader (ripgrep makes the same trade).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(OpenError::io("mapping", path))?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    let release = |from: usize, to: usize| {
        #[cfg(unix)]
        {
            if let Some((start, end)) = whole_pages(from, to, 4096) {
                // SAFETY: a read-only private file mapping; dropped pages are re-read on access.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = (from, to);
    };
    Ok(parse_with_release(&map, &release)?)
}

/// Parse a snapshot held in memory.
pub fn parse(buf: &[u8]) -> Result<Graph, ParseError> {
    parse_with_release(buf, &|_, _| {})
}

fn parse_with_release(
    buf: &[u8],
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<Graph, ParseError> {
    let mut p = expect(buf, 0, b'{', "header")?;
    let (key, np) = scan_string(buf, p, "header")?;
    if key != "snapshot" {
        return Err(ParseError::new(
            "header",
            p,
            format!("expected the `snapshot` key first, found `{key}`"),
        ));
    }
    p = expect(buf, np, b':', "header")?;
    p = skip_ws(buf, p);
    let mut de = serde_json::Deserializer::from_slice(&buf[p..]).into_iter::<Header>();
    let header = match de.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            let off = p + de.byte_offset();
            let msg = if e.is_eof() {
                "file ends early (truncated?) in the header".to_string()
            } else {
                format!("bad header: {e}")
            };
            return Err(ParseError::new("header", off, msg));
        }
        None => {
            return Err(ParseError::new(
                "header",
                p,
                "file ends early (truncated?) in the header",
            ))
        }
    };
    p += de.byte_offset();

    let meta = &header.meta;
    let nfc = meta.node_fields.len();
    let efc = meta.edge_fields.len();
    let field = |fields: &[String], name: &str| fields.iter().position(|f| f == name);
    let need = |fields: &[String], name: &str| {
        field(fields, name).ok_or_else(|| {
            ParseError::new(
                "header",
                p,
                format!("snapshot.meta lacks the `{name}` field"),
            )
        })
    };
    let (n_type, n_name, n_id, n_size, n_edges) = (
        need(&meta.node_fields, "type")?,
        need(&meta.node_fields, "name")?,
        need(&meta.node_fields, "id")?,
        need(&meta.node_fields, "self_size")?,
        need(&meta.node_fields, "edge_count")?,
    );
    let n_detached = field(&meta.node_fields, "detachedness").unwrap_or(usize::MAX);
    let (e_type, e_name, e_to) = (
        need(&meta.edge_fields, "type")?,
        need(&meta.edge_fields, "name_or_index")?,
        need(&meta.edge_fields, "to_node")?,
    );
    let mut g = Graph {
        node_types: type_names(&meta.node_types),
        edge_types: type_names(&meta.edge_types),
        ..Graph::default()
    };
    if g.node_types.is_empty()
        || g.edge_types.is_empty()
        || g.node_types.len() > 250
        || g.edge_types.len() > 250
    {
        return Err(ParseError::new(
            "header",
            p,
            "snapshot.meta has no usable node or edge types",
        ));
    }
    // Pre-size from the header, but never trust a corrupt count with a huge allocation.
    let cap_n = presize(header.node_count, buf.len(), nfc);
    let cap_e = presize(header.edge_count, buf.len(), efc);
    let nf = NodeFields {
        width: nfc,
        ty: n_type,
        name: n_name,
        id: n_id,
        size: n_size,
        edges: n_edges,
        detached: n_detached,
        types: g.node_types.len() as u64,
        cap: cap_n,
    };
    let ef = EdgeFields {
        width: efc,
        ty: e_type,
        name: e_name,
        to: e_to,
        node_width: nfc,
        node_div: ExactDiv::new(nfc as u64),
        types: g.edge_types.len() as u64,
        named: string_named(&g.node_types, &g.edge_types),
        cap: cap_e,
    };

    let (mut seen_nodes, mut seen_edges, mut seen_strings) = (false, false, false);
    // Fast path for V8's layout, `"nodes":[...],"edges":[...]`: both big arrays parse on two
    // threads. First choice: each thread gets about half the bytes, split inside the edges
    // array (which is the larger). If that does not apply or anything fails, one thread per
    // array; its errors are the canonical ones.
    let fast = match locate_nodes(buf, p) {
        None => None,
        Some(nodes_at) => match split_parse(buf, nodes_at, &nf, &ef, release) {
            Some(r) => Some(r),
            None => match locate_edges(buf, nodes_at) {
                None => None,
                Some((edges_key_at, edges_at)) => {
                    let (nodes, edges) = std::thread::scope(|sc| {
                        let h = sc.spawn(|| parse_edges(buf, edges_at, &ef, release));
                        let n = parse_nodes(buf, nodes_at, &nf, release);
                        (
                            n,
                            h.join().unwrap_or_else(|_| {
                                Err(ParseError::new("edges", edges_at, "edge parser failed"))
                            }),
                        )
                    });
                    Some((nodes?, edges?, edges_key_at, None))
                }
            },
        },
    };
    let mut early = None;
    let mut bounds = None;
    if let Some(((cols, nodes_end), (ecols, edges_end), edges_key_at, strings)) = fast {
        early = strings;
        let after = skip_ws(buf, nodes_end);
        if buf.get(after) != Some(&b',') || skip_ws(buf, after + 1) != edges_key_at {
            return Err(ParseError::new(
                "nodes",
                after,
                "unexpected data after the nodes array",
            ));
        }
        cols.install(&mut g);
        bounds = Some(ecols.install(&mut g));
        seen_nodes = true;
        seen_edges = true;
        p = edges_end;
    }
    loop {
        p = skip_ws(buf, p);
        match buf.get(p) {
            Some(b'}') => break,
            Some(b',') => p += 1,
            Some(&b) => {
                return Err(ParseError::new(
                    "file",
                    p,
                    format!(
                        "expected `,` or `}}`, found `{}`",
                        (b as char).escape_default()
                    ),
                ))
            }
            None => {
                return Err(ParseError::new(
                    "file",
                    p,
                    "file ends early (truncated?) between sections",
                ))
            }
        }
        let (key, np) = scan_string(buf, p, "file")?;
        p = expect(buf, np, b':', "file")?;
        match key.as_str() {
            "nodes" if !seen_nodes => {
                seen_nodes = true;
                let (cols, end) = parse_nodes(buf, p, &nf, release)?;
                cols.install(&mut g);
                p = end;
            }
            "edges" if !seen_edges => {
                seen_edges = true;
                let (cols, end) = parse_edges(buf, p, &ef, release)?;
                bounds = Some(cols.install(&mut g));
                p = end;
            }
            "nodes" | "edges" | "strings" if key != "strings" || seen_strings => {
                return Err(ParseError::new(
                    "file",
                    p,
                    format!("the `{key}` section appears twice"),
                ));
            }
            "strings" => {
                seen_strings = true;
                let t0 = std::time::Instant::now();
                let at = skip_ws(buf, p);
                let (s, np) = match early.take() {
                    Some((early_at, r)) if early_at == at => r,
                    _ => scan_string_array(buf, p, "strings")?,
                };
                crate::timing::timing("parse: strings", t0);
                g.strings = s;
                p = np;
            }
            "locations" | "samples" | "trace_tree" | "trace_function_infos" => {
                // Not needed for the graph; scanned (not trusted to serde) to stay fast.
                let section: &'static str = match key.as_str() {
                    "locations" => "locations",
                    "samples" => "samples",
                    "trace_tree" => "trace_tree",
                    _ => "trace_function_infos",
                };
                p = skip_value(buf, p, section)?;
            }
            _ => p = skip_value(buf, p, "file")?,
        }
    }
    for (seen, name) in [
        (seen_nodes, "nodes"),
        (seen_edges, "edges"),
        (seen_strings, "strings"),
    ] {
        if !seen {
            return Err(ParseError::new(
                name,
                p,
                format!("the `{name}` section is missing"),
            ));
        }
    }
    let t0 = std::time::Instant::now();
    validate(&g, header.root_index.unwrap_or(0), nfc, p, bounds)?;
    crate::timing::timing("parse: validate", t0);
    g.root = (header.root_index.unwrap_or(0) / nfc as u64) as u32;
    Ok(g)
}

/// Skip any JSON value by bracket matching (strings honoured); the sections skipped here
/// (`trace_tree`, `samples`, `locations`) are nested arrays of numbers.
fn skip_value(buf: &[u8], pos: usize, section: &'static str) -> Result<usize, ParseError> {
    let start = skip_ws(buf, pos);
    let mut p = start;
    let mut depth = 0usize;
    while p < buf.len() {
        match buf[p] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                if depth == 0 {
                    return Err(ParseError::new(section, p, "unbalanced brackets"));
                }
                depth -= 1;
                if depth == 0 {
                    return Ok(p + 1);
                }
            }
            b'"' => {
                let (_, np) = scan_string(buf, p, section)?;
                p = np;
                if depth == 0 {
                    return Ok(p);
                }
                continue;
            }
            b',' if depth == 0 => return Ok(p),
            _ => {}
        }
        p += 1;
    }
    Err(ParseError::new(
        section,
        start,
        "file ends early (truncated?) in this section",
    ))
}

/// The edge-type bits of [`EdgeFields::named`].
fn string_named(node_types: &[String], edge_types: &[String]) -> u64 {
    if edge_types.len() > 64 {
        return u64::MAX;
    }
    let t = crate::graph::TypeIds::resolve(node_types, edge_types);
    let mut named = u64::MAX;
    for ty in [t.e_element, t.e_hidden] {
        if ty < 64 {
            named &= !(1u64 << ty);
        }
    }
    named
}

/// Checks what the columns refer to. `bounds`, when the parse kept them, spares the full
/// read of the edges when every edge is in range.
fn validate(
    g: &Graph,
    root_index: u64,
    nfc: usize,
    end: usize,
    bounds: Option<Bounds>,
) -> Result<(), ParseError> {
    let n = g.node_count();
    if n == 0 {
        return Err(ParseError::new("nodes", end, "the snapshot has no nodes"));
    }
    let declared = *g.first_edge.last().unwrap_or(&0) as usize;
    if declared != g.edge_count() {
        return Err(ParseError::new(
            "edges",
            end,
            format!(
                "nodes declare {declared} edges but the edges section holds {}",
                g.edge_count()
            ),
        ));
    }
    if !root_index.is_multiple_of(nfc as u64) || root_index / nfc as u64 >= n as u64 {
        return Err(ParseError::new(
            "header",
            0,
            format!("root_index {root_index} is not a node"),
        ));
    }
    // Compared as usize: a table of 2^32 strings or more must not wrap to a small count.
    let ns = g.strings.len();
    if let Some(i) = g.node_name.iter().position(|&s| s as usize >= ns) {
        return Err(ParseError::new(
            "nodes",
            end,
            format!(
                "node {i} names string {} but there are {ns}",
                g.node_name[i]
            ),
        ));
    }
    // Every edge in range by the bounds the parse kept: nothing more to read.
    if bounds.is_some_and(|b| (b.edge_to as usize) < n && (b.edge_string as usize) < ns) {
        return Ok(());
    }
    // Otherwise the two edge checks read every edge: one half of the edges on each core.
    // Each half finds its first bad edge of each kind; the first half's wins, so the error is
    // the one a single pass in edge order would report (targets before names).
    let t = g.types();
    let m = g.edge_count();
    let check = |from: usize, to: usize| {
        let target = (from..to).find(|&e| g.edge_to[e] as usize >= n);
        let name =
            (from..to).find(|&e| g.edge_has_string_name(e, &t) && g.edge_name[e] as usize >= ns);
        (target, name)
    };
    let ((t1, n1), (t2, n2)) = if m >= 1 << 16 {
        std::thread::scope(|sc| {
            let second = sc.spawn(|| check(m / 2, m));
            let first = check(0, m / 2);
            (first, second.join().expect("edge check thread"))
        })
    } else {
        (check(0, m), (None, None))
    };
    if let Some(i) = t1.or(t2) {
        return Err(ParseError::new(
            "edges",
            end,
            format!("edge {i} points to node {} but there are {n}", g.edge_to[i]),
        ));
    }
    if let Some(e) = n1.or(n2) {
        return Err(ParseError::new(
            "edges",
            end,
            format!(
                "edge {e} names string {} but there are {ns}",
                g.edge_name[e]
            ),
        ));
    }
    Ok(())
}

struct NodeFields {
    width: usize,
    ty: usize,
    name: usize,
    id: usize,
    size: usize,
    edges: usize,
    detached: usize,
    types: u64,
    cap: usize,
}

#[derive(Clone, Copy)]
struct EdgeFields {
    width: usize,
    ty: usize,
    name: usize,
    to: usize,
    node_width: usize,
    /// Divides by `node_width`.
    node_div: ExactDiv,
    types: u64,
    /// Bit `t` set when edges of type `t` name a string (all but `element` and `hidden`,
    /// as [`Graph::edge_has_string_name`] decides); all set when there are over 64 types,
    /// which only makes [`Bounds`] more cautious.
    named: u64,
    cap: usize,
}

/// The largest values the parse saw, so that [`validate`] need not read every column again
/// (on a 1 GB snapshot that second read of 43 M edges took 0.075 s on two cores). When a
/// bound is out of range the full checks run and name the first bad record.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bounds {
    /// The largest edge target ordinal.
    edge_to: u32,
    /// The largest name of an edge whose name is a string index.
    edge_string: u32,
}

impl Bounds {
    /// The bounds of a run of edges just written (still in cache: a second read of the
    /// whole columns would miss on every line). A tight loop the compiler unrolls; in the
    /// scanner's own loop the same work cost twice as much.
    fn of(ty: &[u8], name: &[u32], to: &[u32], named: u64) -> Bounds {
        let (mut b_to, mut b_string) = (0u32, 0u32);
        for ((&t, &n), &x) in ty.iter().zip(name).zip(to) {
            b_to = b_to.max(x);
            // Exact for every type: with 64 types or fewer `t` is below 64, and with more
            // `named` has every bit set ([`string_named`]), so any bit says "named".
            let bit = (named >> (t & 63)) & 1;
            b_string = b_string.max(n & 0u32.wrapping_sub(bit as u32));
        }
        Bounds {
            edge_to: b_to,
            edge_string: b_string,
        }
    }

    /// Folds in the edges `..n` of the columns past the last whole run (the run `n` ends
    /// when it is a multiple of [`BOUNDS_RUN`]; nothing when `n` is 0).
    fn fold_last_run(&mut self, ty: &[u8], name: &[u32], to: &[u32], n: usize, named: u64) {
        if n == 0 {
            return;
        }
        let from = (n - 1) / BOUNDS_RUN * BOUNDS_RUN;
        *self = self.and(Bounds::of(
            &ty[from..n],
            &name[from..n],
            &to[from..n],
            named,
        ));
    }

    fn and(self, o: Bounds) -> Bounds {
        Bounds {
            edge_to: self.edge_to.max(o.edge_to),
            edge_string: self.edge_string.max(o.edge_string),
        }
    }
}

#[derive(Default)]
struct NodeCols {
    ty: Vec<u8>,
    name: Vec<u32>,
    id: Vec<u32>,
    size: crate::sizes::Sizes,
    first_edge: Vec<u32>,
    detached: Vec<u8>,
}

impl NodeCols {
    fn install(self, g: &mut Graph) {
        g.node_type = self.ty;
        g.node_name = self.name;
        g.node_id = self.id;
        g.self_size = self.size;
        g.first_edge = self.first_edge;
        g.detachedness = self.detached;
    }
}

#[derive(Default)]
struct EdgeCols {
    ty: Vec<u8>,
    name: Vec<u32>,
    to: Vec<u32>,
    bounds: Bounds,
    /// How many of the edges the split's first half parsed (tests check its bounds).
    #[cfg(test)]
    first_half: usize,
}

impl EdgeCols {
    /// Moves the columns into `g`; returns what the parse saw of them.
    fn install(self, g: &mut Graph) -> Bounds {
        g.edge_type = self.ty;
        g.edge_name = self.name;
        g.edge_to = self.to;
        self.bounds
    }
}

fn locate_nodes(buf: &[u8], header_end: usize) -> Option<usize> {
    let p = skip_ws(buf, header_end);
    if buf.get(p) != Some(&b',') {
        return None;
    }
    let (key, np) = scan_string(buf, p + 1, "file").ok()?;
    if key != "nodes" {
        return None;
    }
    expect(buf, np, b':', "file").ok()
}

/// The `"edges"` key after the nodes array (number arrays hold no quotes, so it is the first
/// quote) and the position after its colon.
fn locate_edges(buf: &[u8], nodes_at: usize) -> Option<(usize, usize)> {
    let q = nodes_at + memchr::memchr(b'"', &buf[nodes_at..])?;
    edges_key(buf, q).map(|e| (q, e))
}

fn edges_key(buf: &[u8], q: usize) -> Option<usize> {
    let (key, np) = scan_string(buf, q, "file").ok()?;
    if key != "edges" {
        return None;
    }
    expect(buf, np, b':', "file").ok()
}

type Split = (
    (NodeCols, usize),
    (EdgeCols, usize),
    usize,
    Option<EarlyStrings>,
);

/// The string table, parsed on the second thread once its half of the edges is done: where
/// its array starts, and the table with the position after it. Only used when the section
/// loop meets the `strings` key at exactly that place (anything else, and it parses the
/// table itself, with its own errors).
type EarlyStrings = (usize, (Strings, usize));

/// The string table's array, found after `from` (the end of the edges) and parsed. V8 writes
/// it last, after sections of numbers only; a `"strings"` found elsewhere is harmless, as the
/// section loop checks the position before using the result.
fn early_strings(buf: &[u8], from: usize) -> Option<EarlyStrings> {
    let rest = buf.get(from..)?;
    let key = from + memchr::memmem::find(rest, b"\"strings\"")?;
    let at = expect(buf, key + b"\"strings\"".len(), b':', "strings").ok()?;
    let at = skip_ws(buf, at);
    let t0 = std::time::Instant::now();
    let r = scan_string_array(buf, at, "strings").ok()?;
    crate::timing::timing("parse: strings (2nd thread)", t0);
    Some((at, r))
}

/// Fields in the first whole line from `at` (V8 writes one record per line, as `\n,a,b,c`),
/// or `None` for anything else (a string table, the end of the file).
fn line_fields(buf: &[u8], at: usize) -> Option<usize> {
    let w = buf.get(at..(at + 8192).min(buf.len()))?;
    let start = memchr::memchr(b'\n', w)? + 1;
    let len = memchr::memchr(b'\n', &w[start..])?;
    let line = &w[start..start + len];
    if memchr::memchr(b'"', line).is_some() {
        return None;
    }
    Some(memchr::memchr_iter(b',', line).count())
}

/// The first position in `lo..hi` (to within a page) where `past` holds, for a `past` that is
/// false and then true. A few dozen page reads instead of a scan of the whole array.
fn boundary(mut lo: usize, mut hi: usize, past: impl Fn(usize) -> bool) -> usize {
    while hi - lo > 4096 {
        let mid = lo + (hi - lo) / 2;
        if past(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Scanning a byte of the nodes array costs about this much more than one of the edges
/// (six columns written per record instead of three, but no [`Bounds`] kept, and the
/// second thread also counts the first half's edge records); measured on a 1 GB snapshot.
const NODE_BYTE_COST: f64 = 1.1;

/// Scanning a byte of the string table (after the edges, parsed by the second thread once
/// its edges are done) costs about this much more than one of the edges: measured on a real
/// 2.2 GB snapshot (144 MB of strings in 0.22–0.26 s, edges at 1.14 ns a byte).
const TAIL_BYTE_COST: f64 = 1.45;

/// Where in `edges_start..edges_end` the second thread should start so both threads scan
/// about the same cost (the second one also reads the `tail` after the edges); `None` when
/// the nodes alone outweigh the rest. Byte positions are `usize` (64-bit) and the balance is
/// computed in `f64`, exact for any file under 2^53 bytes.
fn split_target(
    nodes_at: usize,
    edges_start: usize,
    edges_end: usize,
    tail: usize,
) -> Option<usize> {
    let node_bytes = edges_start.checked_sub(nodes_at)? as f64 * NODE_BYTE_COST;
    let edge_bytes = edges_end.checked_sub(edges_start)? as f64;
    let tail_bytes = tail as f64 * TAIL_BYTE_COST;
    if node_bytes >= edge_bytes + tail_bytes {
        return None;
    }
    let into = ((edge_bytes + tail_bytes - node_bytes) / 2.0).min(edge_bytes);
    Some(edges_start + into as usize)
}

/// The two-thread scan balanced by bytes; `None` when it does not apply or anything failed.
///
/// The split point is found without reading the arrays (a scan would fault in the whole
/// file on one thread): node lines and edge lines have different field counts, so a binary
/// search over a few pages finds where the edges start and end. The second thread starts at
/// a line start past the balance point; the first scans the nodes and then the edges up to
/// exactly that point, which proves the point was a record boundary inside the edges.
fn split_parse(
    buf: &[u8],
    nodes_at: usize,
    nf: &NodeFields,
    ef: &EdgeFields,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Option<Split> {
    if nf.width == ef.width || buf.len() < 1 << 20 {
        return None;
    }
    let edges_start = boundary(nodes_at, buf.len(), |x| {
        line_fields(buf, x) != Some(nf.width)
    });
    let edges_end = boundary(edges_start, buf.len(), |x| {
        line_fields(buf, x) != Some(ef.width)
    });
    let target = split_target(nodes_at, edges_start, edges_end, buf.len() - edges_end)?;
    let window = buf.get(target..(target + 4096).min(buf.len()))?;
    // V8 writes each record on its own line as `\n,a,b,c`: split after such a comma.
    let nl = target + memchr::memchr(b'\n', window)?;
    if buf.get(nl + 1) != Some(&b',') {
        return None;
    }
    let split = nl + 2;
    if std::env::var_os("LEAKHOUND_HEAP_TIMING").is_some() {
        eprintln!("[heap] parse: edges at ~{edges_start}..~{edges_end}, split at {split}");
    }
    // Each half writes straight into its place in the edge columns: the first half's record
    // count is its line count. Both halves check their counts when done.
    let win = edges_start.saturating_sub(8192).max(nodes_at)..(edges_start + 8192).min(split);
    let key_at = win.start + memchr::memmem::find(&buf[win], b"\"edges\"")?;
    let first_edge_at = expect(buf, edges_key(buf, key_at)?, b'[', "edges").ok()?;
    let lines = buf.get(first_edge_at..split)?;
    let total = ef.cap;
    // No edge count in the header: the halves cannot be placed (the one-thread-per-array
    // path grows its columns instead), and finding out after the nodes would parse them twice.
    if total == 0 {
        return None;
    }
    let (mut ty, mut name, mut to) = (vec![0u8; total], vec![0u32; total], vec![0u32; total]);
    let (give, take) = std::sync::mpsc::sync_channel(1);
    let (ty_cols, name_cols, to_cols) = (&mut ty, &mut name, &mut to);
    let ((nodes, b1), (end, b2, len2)) = std::thread::scope(|sc| {
        let h = sc.spawn(move || {
            let t0 = std::time::Instant::now();
            // The second thread counts the first half's records (its line count: where its
            // own half starts in the columns) while the first parses the nodes, which is
            // off the main chain there.
            // Each piece counted is dropped from the map again (the first thread reads it
            // later): on a small file these pages were the peak.
            let mut k1 = 0;
            for (i, piece) in lines.chunks(COUNT_PIECE).enumerate() {
                k1 += memchr::memchr_iter(b'\n', piece).count();
                let at = first_edge_at + i * COUNT_PIECE;
                release(at, at + piece.len());
            }
            if k1 > total {
                let _ = give.send(None);
                return (None, Bounds::default(), 0);
            }
            let (ty1, ty2) = ty_cols.split_at_mut(k1);
            let (name1, name2) = name_cols.split_at_mut(k1);
            let (to1, to2) = to_cols.split_at_mut(k1);
            let _ = give.send(Some(EdgeSlices {
                ty: ty1,
                name: name1,
                to: to1,
                n: 0,
                f: *ef,
                bounds: Bounds::default(),
            }));
            let mut second = EdgeSlices {
                ty: ty2,
                name: name2,
                to: to2,
                n: 0,
                f: *ef,
                bounds: Bounds::default(),
            };
            let r = scan_range(
                buf,
                split,
                usize::MAX,
                "edges",
                ef.width,
                &mut second,
                release,
            );
            crate::timing::timing("parse: second half", t0);
            let end = match r {
                Ok(RangeEnd::Closed(end)) if second.full() => Some((end, early_strings(buf, end))),
                _ => None,
            };
            (end, second.bounds(), second.ty.len())
        });
        let t0 = std::time::Instant::now();
        let mut bounds = Bounds::default();
        let nodes = (|| {
            let (nodes, nodes_end) = parse_nodes(buf, nodes_at, nf, release).ok()?;
            let after = skip_ws(buf, nodes_end);
            if buf.get(after) != Some(&b',') || skip_ws(buf, after + 1) != key_at {
                return None;
            }
            let mut first = take.recv().ok()??;
            let end = scan_range(
                buf,
                first_edge_at,
                split,
                "edges",
                ef.width,
                &mut first,
                release,
            )
            .ok()?;
            bounds = first.bounds();
            (end == RangeEnd::Stopped(split) && first.full()).then_some((nodes, nodes_end))
        })();
        crate::timing::timing("parse: first half", t0);
        (
            (nodes, bounds),
            h.join().unwrap_or((None, Bounds::default(), 0)),
        )
    });
    // The channel holds (type-wise) borrows of the columns.
    drop(take);
    #[cfg(not(test))]
    let _ = len2;
    let edges = EdgeCols {
        #[cfg(test)]
        first_half: total - len2,
        ty,
        name,
        to,
        bounds: b1.and(b2),
    };
    let (end, strings) = end?;
    Some((nodes?, (edges, end), key_at, strings))
}

/// Bytes counted at a time before they are dropped from the map again.
const COUNT_PIECE: usize = 8 << 20;

/// One half of the edge columns, filled in place by one thread.
struct EdgeSlices<'a> {
    ty: &'a mut [u8],
    name: &'a mut [u32],
    to: &'a mut [u32],
    n: usize,
    f: EdgeFields,
    bounds: Bounds,
}

impl Records for EdgeSlices<'_> {
    #[inline(always)]
    fn push(&mut self, r: &[u64], at: usize) -> Result<(), ParseError> {
        let (ty, name, to) = decode_edge(r, at, &self.f)?;
        let n = self.n;
        if n >= self.ty.len() {
            return Err(ParseError::new("edges", at, "more edges than expected"));
        }
        self.ty[n] = ty;
        self.name[n] = name;
        self.to[n] = to;
        self.n = n + 1;
        if self.n.is_multiple_of(BOUNDS_RUN) {
            self.see_upto(self.n);
        }
        Ok(())
    }
}

impl EdgeSlices<'_> {
    fn full(&self) -> bool {
        self.n == self.ty.len()
    }

    /// Folds the edges from the last full run up to `n` into the bounds.
    #[cold]
    fn see_upto(&mut self, n: usize) {
        let (ty, name, to) = (&*self.ty, &*self.name, &*self.to);
        self.bounds.fold_last_run(ty, name, to, n, self.f.named);
    }

    /// The bounds of every edge written.
    fn bounds(&mut self) -> Bounds {
        if !self.n.is_multiple_of(BOUNDS_RUN) {
            self.see_upto(self.n);
        }
        self.bounds
    }
}

/// Edges per run folded into [`Bounds`] (about 36 KB of columns: still in the L2 cache).
const BOUNDS_RUN: usize = 4096;

/// Node ordinals are u32 everywhere after the parse (half the memory of usize on 55 M
/// nodes), and the dominator pass numbers vertices from 1 with `u32::MAX` and `u32::MAX - 1`
/// as markers, so at most this many nodes (about 4.3 billion: a snapshot of 60 GB or more).
pub const MAX_NODES: usize = u32::MAX as usize - 2;
/// Edge ordinals are u32 (`first_edge`), so at most this many edges.
pub const MAX_EDGES: u64 = u32::MAX as u64;

fn too_many_nodes(at: usize) -> ParseError {
    ParseError::new(
        "nodes",
        at,
        format!("more than {MAX_NODES} nodes: leakhound indexes nodes with 32 bits"),
    )
}

fn too_many_edges(at: usize) -> ParseError {
    ParseError::new(
        "nodes",
        at,
        format!(
            "the nodes declare more than {MAX_EDGES} edges: leakhound indexes edges with 32 bits"
        ),
    )
}

/// How many records to reserve for a section whose header count is `count`: the header's
/// word, but never more than the file could hold (each record takes at least two bytes per
/// field), so a corrupt or hostile count cannot make a huge allocation. All in 64 bits.
fn presize(count: Option<u64>, file_len: usize, width: usize) -> usize {
    let fit = file_len as u64 / (2 * width as u64).max(1);
    count.unwrap_or(0).min(fit) as usize
}

/// The whole pages inside `from..to` (`page` a power of two), to drop from a map once read.
fn whole_pages(from: usize, to: usize, page: usize) -> Option<(usize, usize)> {
    let start = from.div_ceil(page) * page;
    let end = to / page * page;
    (end > start).then_some((start, end))
}

fn parse_nodes(
    buf: &[u8],
    p: usize,
    f: &NodeFields,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<(NodeCols, usize), ParseError> {
    let mut c = NodeCols {
        ty: Vec::with_capacity(f.cap),
        name: Vec::with_capacity(f.cap),
        id: Vec::with_capacity(f.cap),
        size: crate::sizes::Sizes::with_capacity(f.cap),
        first_edge: Vec::with_capacity(f.cap + 1),
        detached: Vec::with_capacity(if f.detached < f.width { f.cap } else { 0 }),
    };
    c.first_edge.push(0);
    let mut fill = NodeColsFill {
        c,
        f,
        edges_total: 0,
    };
    let end = scan_records_into(buf, p, "nodes", f.width, &mut fill, release)?;
    Ok((fill.c, end))
}

/// [`NodeCols`] filled by the scanner, with the running edge count.
struct NodeColsFill<'a> {
    c: NodeCols,
    f: &'a NodeFields,
    edges_total: u64,
}

impl Records for NodeColsFill<'_> {
    /// One node, checked: every check at once on the common path, and [`node_error`] to say
    /// which failed first.
    #[inline(always)]
    fn push(&mut self, r: &[u64], at: usize) -> Result<(), ParseError> {
        let (f, c) = (self.f, &mut self.c);
        let ty = r[f.ty];
        // Checked: a corrupt edge_count near u64::MAX must be an error, not a wrap.
        let total = self.edges_total.checked_add(r[f.edges]);
        let ok = ty < f.types
            && c.ty.len() < MAX_NODES
            && r[f.name] <= u32::MAX as u64
            && r[f.id] <= u32::MAX as u64
            && total.is_some_and(|t| t <= MAX_EDGES);
        if !ok {
            return Err(node_error(r, at, f, c.ty.len(), self.edges_total));
        }
        let total = total.unwrap_or(0);
        self.edges_total = total;
        c.ty.push(ty as u8);
        c.name.push(r[f.name] as u32);
        c.id.push(r[f.id] as u32);
        c.size.push(r[f.size]);
        c.first_edge.push(total as u32);
        if f.detached < f.width {
            c.detached.push(r[f.detached].min(255) as u8);
        }
        Ok(())
    }
}

/// The error for a node record [`NodeColsFill::push`] refused, checked in the order the
/// fields were always checked: type, node count, name, id, edge count.
#[cold]
#[inline(never)]
fn node_error(r: &[u64], at: usize, f: &NodeFields, nodes: usize, edges_total: u64) -> ParseError {
    let ty = r[f.ty];
    if ty >= f.types {
        ParseError::new(
            "nodes",
            at,
            format!("node type {ty} is not in snapshot.meta"),
        )
    } else if nodes >= MAX_NODES {
        too_many_nodes(at)
    } else if u32::try_from(r[f.name]).is_err() {
        ParseError::new("nodes", at, "name index too large")
    } else if u32::try_from(r[f.id]).is_err() {
        ParseError::new("nodes", at, "node id too large")
    } else {
        debug_assert!(edges_total
            .checked_add(r[f.edges])
            .is_none_or(|t| t > MAX_EDGES));
        too_many_edges(at)
    }
}

fn parse_edges(
    buf: &[u8],
    p: usize,
    f: &EdgeFields,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<(EdgeCols, usize), ParseError> {
    let mut c = EdgeColsFill {
        c: EdgeCols::with_capacity(f.cap),
        f,
    };
    let end = scan_records_into(buf, p, "edges", f.width, &mut c, release)?;
    if !c.c.to.len().is_multiple_of(BOUNDS_RUN) {
        c.see_upto();
    }
    Ok((c.c, end))
}

impl EdgeCols {
    fn with_capacity(cap: usize) -> EdgeCols {
        EdgeCols {
            ty: Vec::with_capacity(cap),
            name: Vec::with_capacity(cap),
            to: Vec::with_capacity(cap),
            bounds: Bounds::default(),
            #[cfg(test)]
            first_half: 0,
        }
    }
}

/// [`EdgeCols`] filled by the scanner.
struct EdgeColsFill<'a> {
    c: EdgeCols,
    f: &'a EdgeFields,
}

impl EdgeColsFill<'_> {
    /// [`EdgeSlices::see_upto`] for the columns as pushed so far.
    #[cold]
    fn see_upto(&mut self) {
        let c = &mut self.c;
        let n = c.to.len();
        c.bounds
            .fold_last_run(&c.ty, &c.name, &c.to, n, self.f.named);
    }
}

impl Records for EdgeColsFill<'_> {
    #[inline(always)]
    fn push(&mut self, r: &[u64], at: usize) -> Result<(), ParseError> {
        let (ty, name, to) = decode_edge(r, at, self.f)?;
        self.c.ty.push(ty);
        self.c.name.push(name);
        self.c.to.push(to);
        if self.c.to.len().is_multiple_of(BOUNDS_RUN) {
            self.see_upto();
        }
        Ok(())
    }
}

/// Exact division by the node width without a `div` instruction.
///
/// `decode_edge` runs once per edge (165 M times on a 4 GB snapshot) and must turn
/// `to_node` (a multiple of the node width, 6 or 7 for V8) into a node ordinal and check that
/// it is a multiple. A 64-bit `div` by a run-time value costs 20–40 cycles and was most of
/// the time of that function. For `d = 2^k · m` with `m` odd: `x` is a multiple of `d` iff
/// its low `k` bits are zero and `(x >> k) · m⁻¹ (mod 2^64) ≤ ⌊(2^64 − 1) / m⌋`, and then
/// that product is the quotient (Granlund and Montgomery, "Division by invariant integers
/// using multiplication", 1994, §9).
#[derive(Clone, Copy, Debug)]
struct ExactDiv {
    shift: u32,
    inverse: u64,
    limit: u64,
}

impl ExactDiv {
    /// `d` must be non-zero (a node width: at least the five required fields).
    fn new(d: u64) -> ExactDiv {
        assert!(d != 0, "division by zero");
        let shift = d.trailing_zeros();
        let m = d >> shift;
        // Newton's iteration for the inverse mod 2^64: each step doubles the correct low
        // bits, starting from 3 (m · m ≡ 1 mod 8 for odd m).
        let mut inverse = m;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(m.wrapping_mul(inverse)));
        }
        ExactDiv {
            shift,
            inverse,
            limit: u64::MAX / m,
        }
    }

    /// `Some(x / d)` if `d` divides `x`, else `None`.
    #[inline(always)]
    fn divide(self, x: u64) -> Option<u64> {
        let low = x & ((1u64 << self.shift) - 1);
        let q = (x >> self.shift).wrapping_mul(self.inverse);
        (low == 0 && q <= self.limit).then_some(q)
    }
}

/// One edge record's type, name and target ordinal, checked. The common case is small
/// enough to inline into the scanner; the error paths live in [`edge_error`] (as a call
/// returning a large `Result` through memory, with a `div`, this was 3.5% of a whole run).
#[inline(always)]
fn decode_edge(r: &[u64], at: usize, f: &EdgeFields) -> Result<(u8, u32, u32), ParseError> {
    let ty = r[f.ty];
    let name = r[f.name];
    match f.node_div.divide(r[f.to]) {
        Some(q) if ty < f.types && name <= u32::MAX as u64 && q <= u32::MAX as u64 => {
            Ok((ty as u8, name as u32, q as u32))
        }
        _ => Err(edge_error(r, at, f)),
    }
}

/// The error for an edge record [`decode_edge`] refused.
#[cold]
#[inline(never)]
fn edge_error(r: &[u64], at: usize, f: &EdgeFields) -> ParseError {
    let nw = f.node_width as u64;
    let ty = r[f.ty];
    let to = r[f.to];
    if ty >= f.types {
        ParseError::new(
            "edges",
            at,
            format!("edge type {ty} is not in snapshot.meta"),
        )
    } else if u32::try_from(r[f.name]).is_err() {
        ParseError::new("edges", at, "edge name too large")
    } else if !to.is_multiple_of(nw) {
        ParseError::new(
            "edges",
            at,
            format!("to_node {to} is not a multiple of {nw}"),
        )
    } else {
        ParseError::new("edges", at, "to_node too large")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A V8-layout snapshot over 1 MiB (so the byte-balanced split applies), one record per
    /// line; `one_line` writes the same numbers without line breaks, which rules the split
    /// out and parses one array per thread instead.
    fn snapshot(nodes: usize, one_line: bool) -> Vec<u8> {
        let sep = if one_line { "," } else { "\n," };
        let mut s = String::from(
            r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","object","synthetic"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element","property","weak"],"string_or_number","node"]},"#,
        );
        s += &format!(
            r#""node_count":{nodes},"edge_count":{},"trace_function_count":0}},"nodes":["#,
            nodes * 3
        );
        for i in 0..nodes {
            if i > 0 {
                s += sep;
            }
            s += &format!(
                "{},{},{},{},3,0,0",
                i % 3,
                i % 4,
                2 * i + 1,
                (i * 37) % 1000
            );
        }
        s += "],\"edges\":[";
        for i in 0..nodes * 3 {
            if i > 0 {
                s += sep;
            }
            let to = (i * 7919 + 12_345_678) % nodes;
            s += &format!("{},{},{}", i % 3, i % 4, to * 7);
        }
        s += "],\"strings\":[\"\",\"a\",\"b\",\"c\"]}";
        s.into_bytes()
    }

    /// `snapshot(nodes, one_line)` with edge `k`'s record set to `(ty, name, to)`.
    fn with_edge(nodes: usize, one_line: bool, k: usize, rec: [u64; 3]) -> Vec<u8> {
        let text = String::from_utf8(snapshot(nodes, one_line)).unwrap();
        let sep = if one_line { "," } else { "\n," };
        let start = text.find("\"edges\":[").unwrap() + "\"edges\":[".len();
        let end = text.find("],\"strings\"").unwrap();
        let mut fields: Vec<String> = text[start..end]
            .split(sep)
            .flat_map(|r| r.split(','))
            .map(str::to_string)
            .collect();
        for (j, v) in rec.iter().enumerate() {
            fields[3 * k + j] = v.to_string();
        }
        let records: Vec<String> = fields.chunks(3).map(|c| c.join(",")).collect();
        format!("{}{}{}", &text[..start], records.join(sep), &text[end..]).into_bytes()
    }

    /// The bounds kept while parsing stand in for the full read of the edges, on the
    /// two-thread split (a big file, either half) and the one-thread-per-array path (a
    /// small one): a target past the nodes or a string name past the table is still refused
    /// with the first bad edge named, and an element index past the table is not a string.
    #[test]
    fn edges_out_of_range_are_refused_without_a_second_read() {
        for (nodes, one_line) in [(10, true), (60_000, false), (60_000, true)] {
            let m = nodes * 3;
            for k in [1, m / 2 + 7, m - 2] {
                let n7 = nodes as u64 * 7;
                let err = |rec| {
                    parse(&with_edge(nodes, one_line, k, rec))
                        .unwrap_err()
                        .message
                };
                assert_eq!(
                    err([1, 2, n7]),
                    format!("edge {k} points to node {nodes} but there are {nodes}"),
                    "{nodes} nodes, edge {k}"
                );
                assert_eq!(
                    err([1, 4, 0]),
                    format!("edge {k} names string 4 but there are 4"),
                    "{nodes} nodes, edge {k}"
                );
                assert_eq!(
                    err([2, 9, 7]),
                    format!("edge {k} names string 9 but there are 4"),
                    "{nodes} nodes, edge {k}"
                );
                let g = parse(&with_edge(nodes, one_line, k, [0, 1000, 7])).unwrap();
                assert_eq!((g.edge_name[k], g.edge_to[k]), (1000, 1));
            }
        }
    }

    /// Each half of the split keeps the bounds of every edge it wrote: its full runs, its
    /// last partial run, and the edges either side of the split.
    #[test]
    fn both_halves_of_the_split_keep_the_bounds_of_every_edge() {
        let nodes = 60_000;
        let good = snapshot(nodes, false);
        let nodes_at = locate_nodes(&good, find(&good, b",\"nodes\"")).expect("V8 layout");
        let (nf, ef) = fields(nodes);
        let ((_, _), (edges, _), _, _) =
            split_parse(&good, nodes_at, &nf, &ef, &|_, _| {}).expect("the split applies");
        let (k1, m) = (edges.first_half, nodes * 3);
        assert!(k1 > BOUNDS_RUN && k1 % BOUNDS_RUN != 0 && k1 < m, "{k1}");
        assert_eq!(
            edges.bounds,
            Bounds {
                edge_to: nodes as u32 - 1,
                edge_string: 3
            }
        );
        let run_end = k1 / BOUNDS_RUN * BOUNDS_RUN;
        for k in [
            0,
            BOUNDS_RUN - 1,
            BOUNDS_RUN,
            run_end - 1,
            run_end,
            k1 - 1,
            k1,
            k1 + BOUNDS_RUN,
            m - 1,
        ] {
            // A property edge (named by a string) to a node past the end, named past the
            // table: both bounds must see it.
            let text = with_edge(nodes, false, k, [1, 77, 7 * (nodes as u64 + 5)]);
            let ((_, _), (edges, _), _, _) =
                split_parse(&text, nodes_at, &nf, &ef, &|_, _| {}).expect("the split applies");
            assert_eq!(edges.first_half, k1, "edge {k}");
            assert_eq!(
                edges.bounds,
                Bounds {
                    edge_to: nodes as u32 + 5,
                    edge_string: 77
                },
                "edge {k}"
            );
        }
    }

    /// A `"strings"` before the real table (a string value, a nested key) is parsed early or
    /// not at all, but never used: the table is the one at the top level.
    #[test]
    fn a_decoy_strings_key_is_not_taken_for_the_table() {
        let text = snapshot(60_000, false);
        let real = parse(&text).unwrap();
        let at = find(&text, b",\"strings\"");
        for decoy in [
            &b",\"note\":\"strings\""[..],
            &b",\"extra\":{\"strings\":[\"decoy\",\"x\"]}"[..],
        ] {
            let mut t = text[..at].to_vec();
            t.extend_from_slice(decoy);
            t.extend_from_slice(&text[at..]);
            let g = parse(&t).expect("the snapshot with a decoy parses");
            assert_eq!(g.strings.len(), real.strings.len());
            assert_eq!(g.strings.get(1), Some("a"));
            assert_eq!(g.edge_to, real.edge_to);
        }
    }

    #[test]
    fn split_scan_equals_one_piece_scan() {
        let text = snapshot(60_000, false);
        assert!(text.len() > 2 << 20);
        // The header ends before `,"nodes"`.
        let nodes_at = locate_nodes(&text, find(&text, b",\"nodes\"")).expect("V8 layout");
        let (nf, ef) = fields(60_000);
        let split = split_parse(&text, nodes_at, &nf, &ef, &|_, _| {});
        let ((nodes, _), (edges, _), key_at, strings) = split.expect("the split applies");
        assert_eq!(key_at, find(&text, b"\"edges\""));
        // The second thread parsed the string table too, at its place.
        let (at, (table, end)) = strings.expect("the strings were parsed early");
        assert_eq!(at, find(&text, b"\"strings\"") + b"\"strings\":".len());
        assert_eq!(table.len(), 4);
        assert_eq!(end, text.len() - 1);
        assert_eq!(nodes.ty.len(), 60_000);
        assert_eq!(edges.to.len(), 180_000);

        let a = parse(&text).unwrap();
        let b = parse(&snapshot(60_000, true)).unwrap();
        assert_eq!(a.node_type, b.node_type);
        assert_eq!(a.node_id, b.node_id);
        assert_eq!(a.self_size, b.self_size);
        assert_eq!(a.first_edge, b.first_edge);
        assert_eq!(a.edge_type, b.edge_type);
        assert_eq!(a.edge_name, b.edge_name);
        assert_eq!(a.edge_to, b.edge_to);
        assert_eq!(a.edge_to, edges.to);
        assert_eq!(
            a.edge_to[179_999],
            ((179_999 * 7919 + 12_345_678) % 60_000) as u32
        );
    }

    #[test]
    fn split_errors_are_the_one_piece_errors() {
        let mut text = snapshot(60_000, false);
        // A bad number late in the edges (in the second thread's half).
        let at = text.len() - 5_000;
        let at = at + find(&text[at..], b"\n,") + 2;
        text[at] = b'x';
        let e = parse(&text).unwrap_err();
        assert_eq!(e.section, "edges");
        assert_eq!(e.offset, at as u64);
        assert!(
            e.message.contains("expected an unsigned integer"),
            "{}",
            e.message
        );
    }

    /// The edge checks run in two halves on two cores; the error is still the first a
    /// single pass in edge order would give, bad targets before bad names.
    #[test]
    fn validation_reports_the_first_bad_edge_of_either_half() {
        let good = parse(&snapshot(60_000, true)).unwrap();
        let m = good.edge_count();
        assert!(m >= 1 << 16, "the two-thread path applies");
        let t = good.types();
        let named = |from: usize| {
            (from..m)
                .find(|&e| good.edge_has_string_name(e, &t))
                .unwrap()
        };
        let check = |g: &Graph| validate(g, 0, 7, 99, None).unwrap_err().message;

        let mut g = parse(&snapshot(60_000, true)).unwrap();
        let (early, late) = (named(10), named(m - 10));
        g.edge_name[early] = 4;
        g.edge_to[late] = 60_000;
        assert_eq!(
            check(&g),
            format!("edge {late} points to node 60000 but there are 60000")
        );
        g.edge_to[m / 2 - 1] = 70_000;
        assert_eq!(
            check(&g),
            format!(
                "edge {} points to node 70000 but there are 60000",
                m / 2 - 1
            )
        );

        let mut g = parse(&snapshot(60_000, true)).unwrap();
        g.edge_name[late] = 5;
        g.edge_name[early] = 4;
        assert_eq!(
            check(&g),
            format!("edge {early} names string 4 but there are 4")
        );
        g.edge_name[early] = 0;
        assert_eq!(
            check(&g),
            format!("edge {late} names string 5 but there are 4")
        );
        g.edge_name[late] = 3;
        assert!(validate(&g, 0, 7, 99, None).is_ok());
    }

    /// A header may claim any counts (they only pre-size the columns): 2^40 nodes and
    /// 2^41 edges over a small file parse as the file says, sized in 64 bits, no huge
    /// allocation, no overflow.
    #[test]
    fn huge_header_counts_are_hints_not_allocations() {
        let text = String::from_utf8(snapshot(10, true)).unwrap();
        let text = text
            .replace(
                "\"node_count\":10,",
                &format!("\"node_count\":{},", 1u64 << 40),
            )
            .replace(
                "\"edge_count\":30,",
                &format!("\"edge_count\":{},", 1u64 << 41),
            );
        assert!(text.contains("1099511627776"));
        let g = parse(text.as_bytes()).unwrap();
        assert_eq!((g.node_count(), g.edge_count()), (10, 30));
        // Capacities: the file bounds them, computed without overflow even for u64::MAX
        // counts and files past 4 GiB.
        assert_eq!(presize(Some(1 << 40), text.len(), 7), text.len() / 14);
        assert_eq!(presize(Some(u64::MAX), 5 << 30, 3), (5 << 30) / 6);
        assert_eq!(presize(Some(55_000_000), 5 << 30, 7), 55_000_000);
        assert_eq!(presize(None, 5 << 30, 7), 0);
        // A root_index far past the nodes is a clear error.
        let bad = text.replace(
            "\"trace_function_count\"",
            "\"root_index\":70000000000000,\"trace_function_count\"",
        );
        let e = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.section, "header");
        assert!(
            e.message.contains("70000000000000 is not a node"),
            "{}",
            e.message
        );
    }

    /// Edge counts that would overflow the u32 edge ordinals (or u64 itself) are an error
    /// that says so, never a wrap or an arithmetic panic.
    #[test]
    fn edge_counts_past_32_bits_are_an_error() {
        let text = String::from_utf8(snapshot(10, false)).unwrap();
        for (first, second) in [
            (u64::from(u32::MAX), u64::MAX),
            (u64::MAX, 3),
            (1 << 31, 1 << 31),
        ] {
            // Node records are `type,name,id,size,3,0,0`; give nodes 0 and 1 other counts.
            let bad = text
                .replacen(",0,1,0,3,0,0", &format!(",0,1,0,{first},0,0"), 1)
                .replacen(",1,3,37,3,0,0", &format!(",1,3,37,{second},0,0"), 1);
            assert_ne!(bad, text);
            let e = parse(bad.as_bytes()).unwrap_err();
            assert_eq!(e.section, "nodes", "{first} {second}: {e}");
            assert!(e.message.contains("32 bits"), "{}", e.message);
        }
    }

    /// A node record with several bad fields gets the error of the first one checked, in
    /// the order the checks always ran: type, name, id.
    #[test]
    fn node_errors_keep_their_order() {
        let text = String::from_utf8(snapshot(10, true)).unwrap();
        let big = 1u64 << 32;
        for (record, want) in [
            (
                format!("[9,{big},{big},0,3,0,0,"),
                "node type 9 is not in snapshot.meta",
            ),
            (format!("[0,{big},{big},0,3,0,0,"), "name index too large"),
            (format!("[0,0,{big},0,3,0,0,"), "node id too large"),
        ] {
            let bad = text.replacen("[0,0,1,0,3,0,0,", &record, 1);
            assert_ne!(bad, text);
            let e = parse(bad.as_bytes()).unwrap_err();
            assert_eq!((e.section, e.message.as_str()), ("nodes", want));
        }
    }

    /// Byte positions past 2^32 (a 4.3 GB file) in the arithmetic that maps, splits and
    /// reports them: all 64-bit.
    #[test]
    fn byte_offsets_past_4_gib() {
        const G4: usize = 1 << 32;
        assert_eq!(
            whole_pages(G4 + 1, (G4 << 1) + 5, 4096),
            Some((G4 + 4096, G4 << 1))
        );
        assert_eq!(whole_pages(G4 + 1, G4 + 4000, 4096), None);
        // Nodes from byte 100 to 1.5 GB, edges to 12 GB: the split lands past 4 GiB, where
        // exact integer arithmetic puts it.
        let (nodes_at, es, ee) = (100usize, 1_500_000_000usize, 12_000_000_000usize);
        let t = split_target(nodes_at, es, ee, 0).unwrap();
        let exact = es as u128 + ((ee - es) as u128 * 10 - (es - nodes_at) as u128 * 11) / 20;
        assert!(
            t > G4 && (t as i128 - exact as i128).abs() <= 1,
            "{t} vs {exact}"
        );
        assert_eq!(split_target(0, 9_000_000_000, 10_000_000_000, 0), None);
        // A string table after the edges (the second thread's) moves the split on by its
        // weighted half: the first thread takes more of the edges.
        let tail = 400_000_000usize;
        let with_tail = split_target(nodes_at, es, ee, tail).unwrap();
        let on = (tail as f64 * TAIL_BYTE_COST / 2.0) as usize;
        assert!(
            (with_tail as i128 - (t + on) as i128).abs() <= 2,
            "{with_tail}"
        );
        // However long the tail, the split stays within the edges.
        assert_eq!(split_target(nodes_at, es, ee, usize::MAX / 4), Some(ee));
        // The edge-boundary search over a 6 GB range stops within a page of the boundary.
        let b = boundary(0, 6_000_000_000, |x| x >= 5_000_000_123);
        assert!((5_000_000_123..5_000_000_123 + 4096).contains(&b), "{b}");
        // Errors report the 64-bit offset.
        let e = ParseError::new("edges", G4 + 7, "x");
        assert_eq!(e.offset, 4_294_967_303);
        assert!(e.to_string().ends_with("at byte 4294967303"), "{e}");
    }

    #[test]
    fn exact_division_matches_div_and_rem() {
        for d in 1..=40u64 {
            let ed = ExactDiv::new(d);
            let samples = (0..2000u64)
                .chain([
                    u64::MAX,
                    u64::MAX - 1,
                    u64::MAX / d * d,
                    (u32::MAX as u64) * d,
                ])
                .chain((0..64).map(|b| 1u64 << b))
                .chain((0..64).map(|b| (1u64 << b).wrapping_mul(d)));
            for x in samples {
                let want = (x % d == 0).then_some(x / d);
                assert_eq!(ed.divide(x), want, "{x} / {d}");
            }
        }
    }

    /// Edge targets past 2^24 nodes (memlab's old limit) and past 2^32 bytes of `to_node`
    /// decode to the right ordinal; past u32 ordinals, or off the node grid, they are errors.
    #[test]
    fn edge_targets_past_2_24_nodes_and_32_bit_offsets() {
        let (_, f) = fields(10);
        let ok = |to: u64| decode_edge(&[1, 5, to], 0, &f).map(|(_, _, n)| n);
        assert_eq!(ok(7 * (1 << 24)), Ok(1 << 24));
        assert_eq!(ok(7 * ((1 << 24) + 3)), Ok((1 << 24) + 3));
        assert_eq!(ok(7 * 56_463_287), Ok(56_463_287));
        assert_eq!(ok(7 * u64::from(u32::MAX)), Ok(u32::MAX));
        let err = |r: [u64; 3]| decode_edge(&r, 9, &f).unwrap_err().message;
        assert!(err([1, 5, 7 * (1u64 << 32)]).contains("too large"));
        assert!(err([1, 5, 7 * (1 << 24) + 1]).contains("not a multiple of 7"));
        assert!(err([1, 5, u64::MAX]).contains("not a multiple of 7"));
        assert!(err([3, 5, 7]).contains("edge type 3"));
        assert!(err([1, 1 << 32, 7]).contains("edge name too large"));
    }

    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).unwrap()
    }

    fn fields(nodes: usize) -> (NodeFields, EdgeFields) {
        (
            NodeFields {
                width: 7,
                ty: 0,
                name: 1,
                id: 2,
                size: 3,
                edges: 4,
                detached: 6,
                types: 3,
                cap: nodes,
            },
            EdgeFields {
                width: 3,
                ty: 0,
                name: 1,
                to: 2,
                node_width: 7,
                node_div: ExactDiv::new(7),
                types: 3,
                named: !1,
                cap: nodes * 3,
            },
        )
    }
}
