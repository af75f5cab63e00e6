//! From bytes to a [`Graph`]: serde_json for the small header, hand-written scanners for the
//! big arrays, and checks that every index points somewhere, so later stages never panic.

use crate::error::ParseError;
use crate::graph::Graph;
use crate::scan::{expect, scan_string, scan_string_array, scan_u64_array, skip_ws};
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
pub fn read_file(path: &Path) -> anyhow::Result<Graph> {
    use anyhow::Context;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len == 0 {
        return Err(ParseError::new("file", 0, "the file is empty").into());
    }
    // SAFETY: the map is read-only; a file truncated underneath us could SIGBUS, which is the
    // accepted risk of every mmap reader (ripgrep makes the same trade).
    let map = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("mapping {}", path.display()))?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    let mut released = 0usize;
    let release = |upto: usize| {
        #[cfg(unix)]
        {
            let page = 4096;
            let end = upto / page * page;
            if end > released {
                // SAFETY: a read-only private file mapping; dropped pages are re-read on access.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        released,
                        end - released,
                    )
                };
                released = end;
            }
        }
        #[cfg(not(unix))]
        let _ = upto;
    };
    Ok(parse_with_release(&map, release)?)
}

/// Parse a snapshot held in memory.
pub fn parse(buf: &[u8]) -> Result<Graph, ParseError> {
    parse_with_release(buf, |_| {})
}

fn parse_with_release(buf: &[u8], mut release: impl FnMut(usize)) -> Result<Graph, ParseError> {
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
    let cap_n = (header.node_count.unwrap_or(0) as usize).min(buf.len() / (2 * nfc).max(1));
    let cap_e = (header.edge_count.unwrap_or(0) as usize).min(buf.len() / (2 * efc).max(1));
    g.node_type.reserve_exact(cap_n);
    g.node_name.reserve_exact(cap_n);
    g.node_id.reserve_exact(cap_n);
    g.self_size.reserve_exact(cap_n);
    g.first_edge.reserve_exact(cap_n + 1);
    g.edge_type.reserve_exact(cap_e);
    g.edge_name.reserve_exact(cap_e);
    g.edge_to.reserve_exact(cap_e);
    g.first_edge.push(0);

    let (mut seen_nodes, mut seen_edges, mut seen_strings) = (false, false, false);
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
            "nodes" => {
                seen_nodes = true;
                let mut k = 0usize;
                let mut edges_total: u64 = 0;
                let ntypes = g.node_types.len() as u64;
                p = scan_u64_array(
                    buf,
                    p,
                    "nodes",
                    |v, at| {
                        let f = k % nfc;
                        k += 1;
                        if f == n_type {
                            if v >= ntypes {
                                return Err(ParseError::new(
                                    "nodes",
                                    at,
                                    format!("node type {v} is not in snapshot.meta"),
                                ));
                            }
                            g.node_type.push(v as u8);
                        } else if f == n_name {
                            g.node_name.push(u32::try_from(v).map_err(|_| {
                                ParseError::new("nodes", at, "name index too large")
                            })?);
                        } else if f == n_id {
                            g.node_id.push(v);
                        } else if f == n_size {
                            g.self_size.push(v);
                        } else if f == n_detached {
                            g.detachedness.push(v.min(255) as u8);
                        } else if f == n_edges {
                            edges_total += v;
                            let e = u32::try_from(edges_total)
                                .map_err(|_| ParseError::new("nodes", at, "too many edges"))?;
                            g.first_edge.push(e);
                        }
                        Ok(())
                    },
                    &mut release,
                )?;
                if k % nfc != 0 {
                    return Err(ParseError::new(
                        "nodes",
                        p,
                        format!("{k} values is not a multiple of {nfc} node fields"),
                    ));
                }
            }
            "edges" => {
                seen_edges = true;
                let mut k = 0usize;
                let etypes = g.edge_types.len() as u64;
                p = scan_u64_array(
                    buf,
                    p,
                    "edges",
                    |v, at| {
                        let f = k % efc;
                        k += 1;
                        if f == e_type {
                            if v >= etypes {
                                return Err(ParseError::new(
                                    "edges",
                                    at,
                                    format!("edge type {v} is not in snapshot.meta"),
                                ));
                            }
                            g.edge_type.push(v as u8);
                        } else if f == e_name {
                            g.edge_name.push(u32::try_from(v).map_err(|_| {
                                ParseError::new("edges", at, "edge name too large")
                            })?);
                        } else if f == e_to {
                            if v % nfc as u64 != 0 {
                                return Err(ParseError::new(
                                    "edges",
                                    at,
                                    format!("to_node {v} is not a multiple of {nfc}"),
                                ));
                            }
                            let o = u32::try_from(v / nfc as u64)
                                .map_err(|_| ParseError::new("edges", at, "to_node too large"))?;
                            g.edge_to.push(o);
                        }
                        Ok(())
                    },
                    &mut release,
                )?;
                if k % efc != 0 {
                    return Err(ParseError::new(
                        "edges",
                        p,
                        format!("{k} values is not a multiple of {efc} edge fields"),
                    ));
                }
            }
            "strings" => {
                seen_strings = true;
                let (s, np) = scan_string_array(buf, p, "strings")?;
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
    validate(&g, header.root_index.unwrap_or(0), nfc, p)?;
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

fn validate(g: &Graph, root_index: u64, nfc: usize, end: usize) -> Result<(), ParseError> {
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
    if root_index % nfc as u64 != 0 || root_index / nfc as u64 >= n as u64 {
        return Err(ParseError::new(
            "header",
            0,
            format!("root_index {root_index} is not a node"),
        ));
    }
    let ns = g.strings.len() as u32;
    if let Some(i) = g.node_name.iter().position(|&s| s >= ns) {
        return Err(ParseError::new(
            "nodes",
            end,
            format!(
                "node {i} names string {} but there are {ns}",
                g.node_name[i]
            ),
        ));
    }
    if let Some(i) = g.edge_to.iter().position(|&t| t as usize >= n) {
        return Err(ParseError::new(
            "edges",
            end,
            format!("edge {i} points to node {} but there are {n}", g.edge_to[i]),
        ));
    }
    let t = g.types();
    for e in 0..g.edge_count() {
        if g.edge_has_string_name(e, &t) && g.edge_name[e] >= ns {
            return Err(ParseError::new(
                "edges",
                end,
                format!(
                    "edge {e} names string {} but there are {ns}",
                    g.edge_name[e]
                ),
            ));
        }
    }
    Ok(())
}
