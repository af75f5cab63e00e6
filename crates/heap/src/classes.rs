//! Class names as the DevTools Memory panel shows them (devtools-frontend@138048f):
//! `(system)`, `(compiled code)`, `Function`, `RegExp`, `(string)`-style type names, the
//! constructor name for objects, and for plain `Object`s the inferred interface name
//! (`{id, name, items}`) that DevTools gives popular property sets.

use crate::graph::{Graph, TypeIds};
use rustc_hash::FxHashMap;

const MIN_INTERFACE_PROPERTY_COUNT: usize = 1;
const MAX_INTERFACE_NAME_LENGTH: usize = 120;
const MIN_OBJECT_COUNT_PER_INTERFACE: usize = 2;
const MIN_OBJECT_PROPORTION_PER_INTERFACE: usize = 1000;

/// JS `String.length`: UTF-16 code units.
fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// DevTools' `formatPropertyName`: names with commas, quotes or braces are JSON-quoted.
pub fn format_property_name(name: &str) -> String {
    if name.contains([',', '\'', '"', '{', '}']) {
        serde_json::to_string(name).unwrap_or_else(|_| name.to_string())
    } else {
        name.to_string()
    }
}

struct Interner {
    names: Vec<String>,
    index: FxHashMap<String, u32>,
}

impl Interner {
    fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// Returns the class id of every node and the class name table.
pub fn class_names(g: &Graph, t: &TypeIds) -> (Vec<u32>, Vec<String>) {
    class_names_in(g, t, Vec::new())
}

/// [`class_names`], the class ids written into `buf` (any contents): a dead node-length
/// array reused saves a page fault per 4 KiB.
pub fn class_names_in(g: &Graph, t: &TypeIds, buf: Vec<u32>) -> (Vec<u32>, Vec<String>) {
    let mut it = Interner {
        names: Vec::new(),
        index: FxHashMap::default(),
    };
    // Class ids of raw node names, resolved once per string.
    let mut by_string: Vec<u32> = vec![u32::MAX; g.strings.len()];
    let mut by_type: Vec<u32> = vec![u32::MAX; g.node_types.len()];
    let n = g.node_count();
    let detached = detached_names(g, t);
    let mut by_detached_string: FxHashMap<u32, u32> = FxHashMap::default();
    let mut class_of = buf;
    class_of.clear();
    class_of.resize(n, 0);
    // The ids of the four fixed names, interned on first use (the interning order is the
    // class order) and then read without hashing a string per node.
    let mut fixed: [Option<u32>; 4] = [None; 4];
    for v in 0..n {
        let ty = g.node_type[v];
        let id = if ty == t.hidden {
            *fixed[0].get_or_insert_with(|| it.get("(system)"))
        } else if ty == t.code {
            *fixed[1].get_or_insert_with(|| it.get("(compiled code)"))
        } else if ty == t.closure {
            *fixed[2].get_or_insert_with(|| it.get("Function"))
        } else if ty == t.regexp {
            *fixed[3].get_or_insert_with(|| it.get("RegExp"))
        } else if ty == t.object || ty == t.native {
            let si = g.node_name[v] as usize;
            if detached[v] {
                *by_detached_string.entry(si as u32).or_insert_with(|| {
                    it.get(&class_of_name(&format!("Detached {}", &g.strings[si])))
                })
            } else if by_string[si] == u32::MAX {
                by_string[si] = it.get(&class_of_name(&g.strings[si]));
                by_string[si]
            } else {
                by_string[si]
            }
        } else {
            if by_type[ty as usize] == u32::MAX {
                by_type[ty as usize] = it.get(&format!("({})", g.node_types[ty as usize]));
            }
            by_type[ty as usize]
        };
        class_of[v] = id;
    }
    apply_interfaces(g, t, &mut class_of, &mut it);
    (class_of, it.names)
}

fn class_of_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix('<') {
        match rest.find(' ') {
            Some(sp) => format!("<{}>", &rest[..sp]),
            None => name.to_string(),
        }
    } else if let Some(rest) = name.strip_prefix("Detached <") {
        match rest.find(' ') {
            Some(sp) => format!("{}>", &name[..10 + sp]),
            None => name.to_string(),
        }
    } else {
        name.to_string()
    }
}

/// DevTools' `propagateDOMState`: native nodes inherit attached/detached state from the
/// embedder nodes that know it, and detached ones are named `Detached <name>`.
fn detached_names(g: &Graph, t: &TypeIds) -> Vec<bool> {
    let n = g.node_count();
    let mut prefixed = vec![false; n];
    if g.detachedness.len() != n {
        return prefixed;
    }
    let mut state = g.detachedness.clone();
    let mut visited = vec![false; n];
    let mut attached: Vec<u32> = Vec::new();
    let mut detached: Vec<u32> = Vec::new();
    let mut process =
        |o: u32, s: u8, state: &mut [u8], attached: &mut Vec<u32>, detached: &mut Vec<u32>| {
            let oi = o as usize;
            if visited[oi] {
                return;
            }
            visited[oi] = true;
            if g.node_type[oi] != t.native {
                return;
            }
            state[oi] = s;
            if s == 1 {
                attached.push(o);
            } else if s == 2 {
                prefixed[oi] = true;
                detached.push(o);
            }
        };
    for v in 0..n as u32 {
        let s = state[v as usize];
        if s != 0 {
            process(v, s, &mut state, &mut attached, &mut detached);
        }
    }
    let follow = |e: usize| {
        let ty = g.edge_type[e];
        ty != t.e_hidden && ty != t.e_weak
    };
    while let Some(v) = attached.pop() {
        for e in g.edges(v) {
            if follow(e) {
                process(g.edge_to[e], 1, &mut state, &mut attached, &mut detached);
            }
        }
    }
    while let Some(v) = detached.pop() {
        if state[v as usize] == 1 {
            continue;
        }
        for e in g.edges(v) {
            if follow(e) {
                process(g.edge_to[e], 2, &mut state, &mut attached, &mut detached);
            }
        }
    }
    prefixed
}

struct Candidate {
    name: String,
    props: Vec<u32>,
    count: usize,
}

/// The interface name DevTools infers from an object's property names (string ids, in
/// order), and the ids that made it: `{a, b, c}`, cut before [`MAX_INTERFACE_NAME_LENGTH`],
/// `__proto__` left out. `None` when no property is left.
fn interface_name(g: &Graph, list: &[u32]) -> Option<(String, Vec<u32>)> {
    let mut name = String::from("{");
    let mut name_len = 1usize;
    let mut props = Vec::new();
    for &si in list {
        let Some(en) = g.strings.get(si as usize) else {
            continue;
        };
        if en == "__proto__" {
            continue;
        }
        let f = format_property_name(en);
        let flen = js_len(&f);
        if name_len > MIN_INTERFACE_PROPERTY_COUNT && name_len + flen > MAX_INTERFACE_NAME_LENGTH {
            break;
        }
        if name_len != 1 {
            name.push_str(", ");
            name_len += 2;
        }
        name.push_str(&f);
        name_len += flen;
        props.push(si);
    }
    if props.is_empty() {
        return None;
    }
    name.push('}');
    Some((name, props))
}

/// DevTools' `inferInterfaceDefinitions` + `applyInterfaceDefinitions`: name plain objects by
/// the most specific popular property set they contain.
///
/// One read of the plain objects' edges does both: objects of one shape list the same
/// property names in the same order, so each object is tagged in `class_of` with its
/// distinct list's number, the candidates are counted per list (a few thousand lists for
/// millions of objects on a 1 GB snapshot), each list is matched against the popular
/// definitions once, and a pass over `class_of` alone swaps the tags for the answers.
/// Reading the edges a second time, to match each object, was half of this on a 1 GB
/// snapshot.
fn apply_interfaces(g: &Graph, t: &TypeIds, class_of: &mut [u32], it: &mut Interner) {
    let mut cands: Vec<Candidate> = Vec::new();
    let mut cand_index: FxHashMap<String, usize> = FxHashMap::default();
    // Each distinct list: its number is its index; its candidate, if any.
    let mut by_list: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
    let mut lists: Vec<(Vec<u32>, Option<usize>)> = Vec::new();
    // Plain objects that cannot be tagged: with 2^31 names or lists (or a class other than
    // the one plain objects share, which the class pass never gives): matched afterwards,
    // by list.
    let mut others: Vec<(u32, u32)> = Vec::new();
    let mut plain_class: Option<u32> = None;
    // Tags are told apart from class ids by their top bit: none of the ids made so far has
    // it (nor could: that would be 2^31 distinct names).
    let tags = it.names.len() < TAG as usize;
    // Whether each string is "Object", looked up once per string: 0 not yet, 1 yes, 2 no.
    let mut is_object = vec![0u8; g.strings.len()];
    let mut list: Vec<u32> = Vec::new();
    let mut total = 0usize;
    for v in 0..g.node_count() as u32 {
        if g.node_type[v as usize] != t.object {
            continue;
        }
        let si = g.node_name[v as usize] as usize;
        if is_object[si] == 0 {
            is_object[si] = if g.strings[si] == *"Object" { 1 } else { 2 };
        }
        if is_object[si] != 1 {
            continue;
        }
        total += 1;
        list.clear();
        for e in g.edges(v) {
            if g.edge_type[e] == t.e_property && g.edge_has_string_name(e, t) {
                list.push(g.edge_name[e]);
            }
        }
        let k = match by_list.get(list.as_slice()) {
            Some(&k) => {
                if let Some(i) = lists[k as usize].1 {
                    cands[i].count += 1;
                }
                k
            }
            None => {
                let found =
                    interface_name(g, &list).map(|(name, props)| match cand_index.get(&name) {
                        Some(&i) => {
                            cands[i].count += 1;
                            i
                        }
                        None => {
                            cand_index.insert(name.clone(), cands.len());
                            cands.push(Candidate {
                                name,
                                props,
                                count: 1,
                            });
                            cands.len() - 1
                        }
                    });
                let k = lists.len() as u32;
                by_list.insert(list.clone(), k);
                lists.push((list.clone(), found));
                k
            }
        };
        let c = class_of[v as usize];
        if tags && *plain_class.get_or_insert(c) == c && k < TAG {
            class_of[v as usize] = TAG | k;
        } else {
            others.push((v, k));
        }
    }
    drop(by_list);
    // Stable sort, most popular first, as DevTools' Array.prototype.sort.
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cands[i].count));
    let min_count = (MIN_OBJECT_COUNT_PER_INTERFACE as f64)
        .max(total as f64 / MIN_OBJECT_PROPORTION_PER_INTERFACE as f64);
    let mut defs: Vec<(u32, Vec<u32>)> = Vec::new();
    for i in order {
        let c = &cands[i];
        if (c.count as f64) < min_count {
            break;
        }
        let mut p = c.props.clone();
        p.sort_unstable();
        p.dedup();
        defs.push((it.get(&c.name), p));
    }
    // Each list's answer (the match uses the sorted set of its names). Best match: the
    // most properties, then the earliest (most popular) definition.
    let mut props: Vec<u32> = Vec::new();
    let answer: Vec<Option<u32>> = lists
        .iter()
        .map(|(list, _)| {
            if defs.is_empty() {
                return None;
            }
            props.clear();
            props.extend_from_slice(list);
            props.sort_unstable();
            props.dedup();
            let mut best: Option<(usize, u32)> = None;
            for (cls, dp) in &defs {
                if best.is_some_and(|(n, _)| dp.len() <= n) {
                    continue;
                }
                if dp.iter().all(|p| props.binary_search(p).is_ok()) {
                    best = Some((dp.len(), *cls));
                }
            }
            best.map(|(_, c)| c)
        })
        .collect();
    if let (true, Some(plain)) = (tags, plain_class) {
        for c in class_of.iter_mut() {
            if *c & TAG != 0 {
                *c = answer[(*c & !TAG) as usize].unwrap_or(plain);
            }
        }
    }
    for (v, k) in others {
        if let Some(c) = answer[k as usize] {
            class_of[v as usize] = c;
        }
    }
}

/// Marks a plain object's entry in `class_of` as holding its property list's number while
/// [`apply_interfaces`] runs (class ids are far below it: one per distinct name).
const TAG: u32 = 1 << 31;
