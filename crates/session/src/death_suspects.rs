//! The suspects of one snapshot: the one Node writes near the heap limit just before the
//! target dies of OOM (see [`crate::heap_at_death`]). There is no earlier snapshot to tell new
//! objects from old, but at that moment the leak *is* the heap: the largest retainers by
//! dominator retained size, each followed down to where its memory accumulates.
//!
//! The snapshot is taken inside an allocation, so the shortest path to the leaking collection
//! often runs through the stack (`(Handle scope) > 14 (Map)`), which names nothing. The holder
//! is named instead by its retainers: a variable in the scope of one of the app's functions
//! first, then any scope variable, then a property. The result has the three-snapshot
//! comparison's shape ([`LeakGroup`]), so its signature, source lines and rendering are theirs.

use leakhound_heap::app_path::{is_app_script, script_of};
use leakhound_heap::leaks::LeakGroup;
use leakhound_heap::paths::{path_to, render, Step};
use leakhound_heap::summary::accumulation_point;
use leakhound_heap::Heap;
use leakhound_report::run_schema::SuspectOut;

/// A retainer counts when it holds at least this share of the heap.
pub const MIN_SHARE: f64 = 0.05;

/// Nodes V8 allocates for its own bookkeeping (as the three-snapshot comparison skips them).
fn internal(h: &Heap, v: u32) -> bool {
    let ty = h.graph.node_type[v as usize];
    ty == h.t.hidden || ty == h.t.array || ty == h.t.synthetic || ty == h.t.code
}

/// The first non-synthetic nodes under the root in the dominator tree holding `MIN_SHARE`,
/// largest first.
fn tops(h: &Heap) -> Vec<u32> {
    let floor = ((h.total as f64 * MIN_SHARE) as u64).max(1);
    let mut frontier = vec![h.graph.root];
    let mut out = Vec::new();
    while let Some(v) = frontier.pop() {
        for &k in h.children(v) {
            if h.retained[k as usize] < floor {
                continue;
            }
            if h.graph.node_type[k as usize] == h.t.synthetic {
                frontier.push(k);
            } else {
                out.push(k);
            }
        }
    }
    out.sort_by_key(|&v| std::cmp::Reverse(h.retained[v as usize]));
    out
}

/// The step from `from` to `to` along a direct reference, if there is one.
fn step_between(h: &Heap, from: u32, to: u32) -> Option<Step> {
    let g = &h.graph;
    let e = g
        .edges(from)
        .filter(|&e| g.edge_to[e] == to)
        .min_by_key(|&e| g.edge_type[e] == h.t.e_weak)?;
    Some(leakhound_heap::paths::step(h, e, to))
}

/// A named reference to the holder: the edge and the node it comes from, and the app's
/// function whose scope that node is, when it is one.
struct Named {
    from: u32,
    edge: usize,
    app_fn: Option<u32>,
}

/// The best named reference to each of `holders`: a variable of an app function's scope,
/// then any scope variable, then a property of a JS object. One pass over the edges.
fn names(h: &Heap, holders: &[u32]) -> Vec<Option<Named>> {
    let g = &h.graph;
    let t = &h.t;
    let mut best: Vec<Option<(u8, Named)>> = holders.iter().map(|_| None).collect();
    let mut scopes: Vec<u32> = Vec::new();
    for from in 0..g.node_count() as u32 {
        for e in g.edges(from) {
            let Some(i) = holders.iter().position(|&x| x == g.edge_to[e]) else {
                continue;
            };
            let ty = g.edge_type[e];
            let named = g
                .edge_name_str(e, t)
                .is_some_and(|n| !n.is_empty() && !n.bytes().all(|b| b.is_ascii_digit()));
            let rank = if ty == t.e_context && named {
                scopes.push(from);
                2
            } else if ty == t.e_property && named && !internal(h, from) {
                1
            } else {
                continue;
            };
            if best[i].as_ref().is_none_or(|(r, _)| rank > *r) {
                let n = Named {
                    from,
                    edge: e,
                    app_fn: None,
                };
                best[i] = Some((rank, n));
            }
        }
    }
    if !scopes.is_empty() {
        // The app's functions whose scope is one of those: the one nearest the roots.
        for f in 0..g.node_count() as u32 {
            if g.node_type[f as usize] != t.closure {
                continue;
            }
            let Some(scope) = g
                .edges(f)
                .find(|&e| g.edge_name_str(e, t) == Some("context"))
                .map(|e| g.edge_to[e])
            else {
                continue;
            };
            // Which function reaches the scope first depends on the stack at the moment of
            // death; the choice must not, or the signature would change from run to run: a
            // named function before an anonymous one, then by name.
            let key = |f: u32| (g.name(f).is_empty(), g.name(f).to_string());
            for (_, n) in best.iter_mut().flatten() {
                let better = n.app_fn.is_none_or(|o| key(f) < key(o));
                if n.from == scope
                    && h.distance[f as usize] >= 0
                    && better
                    && script_of(h, f).is_some_and(is_app_script)
                {
                    n.app_fn = Some(f);
                }
            }
        }
    }
    best.into_iter().map(|b| b.map(|(_, n)| n)).collect()
}

/// Where the memory under `top` accumulates, who holds it, and the objects it holds.
struct Found {
    holder: u32,
    class: String,
    instances: u64,
    example: u32,
}

fn found(h: &Heap, top: u32) -> Found {
    let acc = accumulation_point(h, top);
    // The JS object that owns the accumulation point (a Map owns its `table`).
    let mut holder = acc;
    while internal(h, holder) && holder != top && h.idom[holder as usize] != h.graph.root {
        holder = h.idom[holder as usize];
    }
    // The entries: the class of the accumulation point's children retaining the most.
    let mut by_class: Vec<(u32, u64, u64, u32)> = Vec::new();
    for &k in h.children(acc) {
        let c = h.class_of[k as usize];
        let r = h.retained[k as usize];
        match by_class.iter_mut().find(|x| x.0 == c) {
            Some(x) => {
                x.1 += r;
                x.2 += 1;
                if r > h.retained[x.3 as usize] {
                    x.3 = k;
                }
            }
            None => by_class.push((c, r, 1, k)),
        }
    }
    match by_class.into_iter().max_by_key(|x| x.1) {
        Some((_, _, n, example)) => Found {
            holder,
            class: h.class_name(example).to_string(),
            instances: n,
            example,
        },
        None => Found {
            holder,
            class: h.class_name(acc).to_string(),
            instances: 1,
            example: acc,
        },
    }
}

/// The steps from `holder` down the dominator tree to `example` (holder excluded).
fn down(h: &Heap, holder: u32, example: u32) -> Option<Vec<Step>> {
    let mut chain = vec![example];
    let mut v = example;
    while v != holder {
        v = h.idom[v as usize];
        if v == h.graph.root || chain.len() > 64 {
            return None;
        }
        chain.push(v);
    }
    chain.reverse();
    chain
        .windows(2)
        .map(|w| step_between(h, w[0], w[1]))
        .collect()
}

/// The largest retainers of `h` as leak groups, at most `top`.
pub fn groups(h: &Heap, top: usize) -> Vec<LeakGroup> {
    let mut seen: Vec<u32> = Vec::new();
    let mut finds = Vec::new();
    for v in tops(h) {
        let f = found(h, v);
        if !seen.contains(&f.holder) {
            seen.push(f.holder);
            finds.push(f);
        }
        if finds.len() == top {
            break;
        }
    }
    let named = names(h, &seen);
    let total = h.total.max(1);
    finds
        .into_iter()
        .zip(named)
        .map(|(f, n)| group(h, &f, n.as_ref(), total))
        .collect()
}

fn group(h: &Heap, f: &Found, n: Option<&Named>, total: u64) -> LeakGroup {
    let g = &h.graph;
    let below = down(h, f.holder, f.example);
    let mut app_path = Vec::new();
    let mut full = None;
    let steps = match (n, below) {
        (Some(n), Some(below)) => {
            let held = Step {
                edge: g.edge_label(n.edge, &h.t),
                edge_type: g
                    .edge_types
                    .get(g.edge_type[n.edge] as usize)
                    .cloned()
                    .unwrap_or_default(),
                class: h.class_name(f.holder).to_string(),
                node_id: u64::from(g.node_id[f.holder as usize]),
            };
            let mut steps = path_to(h, n.from);
            if let Some(func) = n.app_fn {
                // App-first: the app's function, its scope, the variable.
                let to_f = path_to(h, func);
                let mut route = to_f.clone();
                route.extend(step_between(h, func, n.from));
                route.push(held.clone());
                route.extend(below.iter().cloned());
                full = Some(render(&route));
                if to_f.len() > 1 {
                    app_path.push("(Node internals)".to_string());
                }
                // The function by its own name: the edge that reaches it depends on the stack.
                let name = match g.name(func) {
                    "" => "(anonymous)",
                    n => n,
                };
                app_path.push(format!("{name} ({})", h.class_name(func)));
                app_path.push(format!("{} ({})", held.edge, held.class));
                steps = route;
            } else {
                steps.push(held);
                steps.extend(below);
            }
            steps
        }
        _ => path_to(h, f.example),
    };
    let holder = leakhound_heap::app_path::holder_index(&steps)
        .map(|i| format!("{} ({})", steps[i].edge, steps[i].class));
    let retained = h.retained[f.holder as usize];
    LeakGroup {
        class: f.class.clone(),
        instances: f.instances,
        retained_bytes: retained,
        self_bytes: h.self_size.get(f.holder as usize),
        percent_of_heap: (retained as f64 * 1000.0 / total as f64).round() / 10.0,
        holder,
        path: render(&steps),
        path_steps: steps,
        app_path,
        app_full_path: full,
        example_node_id: u64::from(g.node_id[f.example as usize]),
        population: [0, f.instances],
        significant: true,
        sentence: String::new(),
    }
}

/// The groups of the heap at death as suspects.
pub fn suspects(groups: &[leakhound_heap::leaks::LeakGroup]) -> Vec<SuspectOut> {
    groups
        .iter()
        .map(|g| SuspectOut {
            title: format!(
                "{} {} objects in the heap when the target ran out of memory{}",
                g.instances,
                g.class,
                g.holder
                    .as_ref()
                    .map(|h| format!(", held by {h}"))
                    .unwrap_or_default(),
            ),
            bytes: g.retained_bytes,
            percent: g.percent_of_heap,
            path: if g.app_path.is_empty() {
                g.path.split(" > ").map(str::to_string).collect()
            } else {
                g.app_path.clone()
            },
            full_path: g
                .app_full_path
                .as_deref()
                .unwrap_or(&g.path)
                .split(" > ")
                .map(str::to_string)
                .collect(),
            signature: crate::culprit_findings::signature(g),
            source: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
#[path = "death_suspects_tests.rs"]
mod tests;
