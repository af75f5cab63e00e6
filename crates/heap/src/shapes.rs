//! Retainer-path shapes of every node at once, for grouping leaked objects.
//!
//! A group is "objects of one class on one shape of retainer path" ([`crate::paths::signature`]
//! for a single path). Computing each object's path separately costs its depth, and objects
//! in a linked structure sit at every depth: 68,000 timers in Node's doubly linked timer list
//! took 34,000 hops each, billions in all, and `heap leaks` ran for more than fifteen minutes
//! on 55 MB snapshots. Here a node's shape is its parent's shape plus one step, memoised along
//! the BFS tree, so the whole heap costs one pass; and a step that repeats the previous one
//! (`_idleNext (Timeout)` after `_idleNext (Timeout)`) adds nothing, so the entries of a
//! linked list share one shape whatever their depth.

use rustc_hash::FxHashMap;

use crate::analysis::{Heap, NO_EDGE};
use crate::edge_sources::EdgeSources;

const UNKNOWN: u32 = u32::MAX;
/// More properties than this and an object is a map: its property names are its keys.
pub const MAP_KEYS: usize = 64;
/// The empty shape: the root, and nodes the BFS did not reach.
const ROOT: u32 = 0;

/// Interned shapes of one heap's nodes, filled on demand.
pub struct Shapes<'h> {
    h: &'h Heap,
    of_node: Vec<u32>,
    /// The last step of each shape (an index into `step_keys`), `UNKNOWN` for the root.
    last: Vec<u32>,
    steps: FxHashMap<String, u32>,
    shapes: FxHashMap<(u32, u32), u32>,
    /// The shape one step further than a shape, by what the step is made of: one lookup a
    /// node on the path of every node (`steps` and `shapes` are asked only the first time).
    next: FxHashMap<(u32, StepParts), u32>,
    /// [`Shapes::of`]'s path to a known shape, kept between calls (one a node).
    chain: Vec<(u32, usize, u32)>,
    /// Step ids by what their key is made of ([`StepParts`]): a step key is a string built
    /// and hashed per node, and one pass over a 1 GB heap's 12 M nodes spent most of its
    /// time on them; the few thousand distinct parts are looked up by number instead.
    known_steps: FxHashMap<StepParts, u32>,
    /// The source node of each node's `parent_edge` when [`Shapes::for_every_node`] made
    /// them (empty otherwise): finding an edge's source is a binary search over the edge
    /// starts, several cache misses a node when every node is asked for.
    parent: Vec<u32>,
    /// Finds the other nodes' retainers ([`EdgeSources`]).
    sources: EdgeSources,
}

/// What a step key is a function of: how the edge is named (a map key, a number, or string
/// `name` of the string table) and the class index reached.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct StepParts {
    label: Label,
    class: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Label {
    MapKey,
    /// An element or hidden edge: `[N]`, every number starred alike.
    Index,
    Name(u32),
}

impl<'h> Shapes<'h> {
    pub fn new(h: &'h Heap) -> Self {
        Shapes {
            h,
            of_node: vec![UNKNOWN; h.node_count()],
            last: vec![UNKNOWN],
            steps: FxHashMap::default(),
            shapes: FxHashMap::default(),
            known_steps: FxHashMap::default(),
            next: FxHashMap::default(),
            chain: Vec::new(),
            parent: Vec::new(),
            sources: EdgeSources::new(&h.graph.first_edge),
        }
    }

    /// [`Shapes::new`] for asking the shape of every node: each node's retainer is found
    /// by one sequential pass over the edges (4 bytes a node) rather than one binary
    /// search per node.
    pub fn for_every_node(h: &'h Heap) -> Self {
        let mut s = Shapes::new(h);
        s.find_every_parent();
        s
    }

    /// Each node's retainer by one pass over the edges (see [`Shapes::for_every_node`]).
    fn find_every_parent(&mut self) {
        let h = self.h;
        let g = &h.graph;
        let mut parent = vec![u32::MAX; h.node_count()];
        for v in 0..h.node_count() as u32 {
            crate::cancel::point(v as usize);
            for e in g.edges(v) {
                let to = g.edge_to[e] as usize;
                if h.parent_edge[to] == e as u32 {
                    parent[to] = v;
                }
            }
        }
        self.parent = parent;
    }

    /// The source of `e`, the parent edge of `u`.
    fn source(&self, u: u32, e: usize) -> u32 {
        match self.parent.get(u as usize) {
            Some(&p) if p != u32::MAX => p,
            _ => self.sources.source(&self.h.graph.first_edge, e),
        }
    }

    /// The interned step into `v` by edge `e` from `src` ([`Shapes::step_key`]).
    fn step(&mut self, v: u32, e: usize, src: u32) -> u32 {
        let parts = self.parts(v, e, src);
        self.step_of(parts, v, e, src)
    }

    /// What the step into `v` by edge `e` from `src` is made of.
    fn parts(&self, v: u32, e: usize, src: u32) -> StepParts {
        let h = self.h;
        let g = &h.graph;
        let label = if g.edge_type[e] == h.t.e_property && g.edges(src).len() > MAP_KEYS {
            Label::MapKey
        } else if g.edge_has_string_name(e, &h.t) {
            Label::Name(g.edge_name[e])
        } else {
            Label::Index
        };
        StepParts {
            label,
            class: h.class_of[v as usize],
        }
    }

    /// [`Shapes::step`] with its parts already found.
    fn step_of(&mut self, parts: StepParts, v: u32, e: usize, src: u32) -> u32 {
        if let Some(&id) = self.known_steps.get(&parts) {
            return id;
        }
        let key = self.step_key(v, e, src);
        let id = self.intern_step(key);
        self.known_steps.insert(parts, id);
        id
    }

    /// The step into `v` as the shape sees it: the edge name with numbers starred, and the
    /// class reached. A property of an object used as a map (more than [`MAP_KEYS`]
    /// properties) is `[key]`: its name is data (a session id, a user's e-mail), and naming it
    /// would give every entry a shape of its own (express-session's `MemoryStore.sessions`).
    fn step_key(&self, v: u32, e: usize, src: u32) -> String {
        let g = &self.h.graph;
        let map_key = g.edge_type[e] == self.h.t.e_property && g.edges(src).len() > MAP_KEYS;
        let label = if map_key {
            "[key]".to_string()
        } else {
            g.edge_label(e, &self.h.t)
        };
        let mut out = String::with_capacity(label.len() + 16);
        crate::paths::push_starred(&mut out, &label);
        out.push(':');
        out.push_str(self.h.class_name(v));
        out
    }

    fn intern_step(&mut self, key: String) -> u32 {
        let next = self.steps.len() as u32;
        *self.steps.entry(key).or_insert(next)
    }

    /// The shape one step further than `base`.
    fn extend(&mut self, base: u32, step: u32) -> u32 {
        if self.last[base as usize] == step {
            return base;
        }
        let next = self.last.len() as u32;
        let id = *self.shapes.entry((base, step)).or_insert(next);
        if id == next {
            self.last.push(step);
        }
        id
    }

    /// The shape of node `v`'s retainer path.
    pub fn of(&mut self, v: u32) -> u32 {
        let h = self.h;
        let mut chain = std::mem::take(&mut self.chain);
        chain.clear();
        let mut u = v;
        let mut base = ROOT;
        loop {
            if u == h.graph.root {
                break;
            }
            let known = self.of_node[u as usize];
            if known != UNKNOWN {
                base = known;
                break;
            }
            let e = h.parent_edge[u as usize];
            if e == NO_EDGE {
                self.of_node[u as usize] = ROOT;
                break;
            }
            let src = self.source(u, e as usize);
            chain.push((u, e as usize, src));
            u = src;
        }
        for &(u, e, src) in chain.iter().rev() {
            let parts = self.parts(u, e, src);
            base = match self.next.get(&(base, parts)) {
                Some(&next) => next,
                None => {
                    let step = self.step_of(parts, u, e, src);
                    let next = self.extend(base, step);
                    self.next.insert((base, parts), next);
                    next
                }
            };
            self.of_node[u as usize] = base;
        }
        self.chain = chain;
        if v == h.graph.root {
            ROOT
        } else {
            self.of_node[v as usize]
        }
    }

    /// The step keys of node `v`'s shape, outermost first (repeats folded): what carries a
    /// shape from one snapshot to another.
    pub fn keys_of(&mut self, v: u32) -> Vec<String> {
        let mut ids = Vec::new();
        let mut u = v;
        while u != self.h.graph.root {
            let e = self.h.parent_edge[u as usize];
            if e == NO_EDGE {
                break;
            }
            let src = self.source(u, e as usize);
            let id = self.step(u, e as usize, src);
            if ids.last() != Some(&id) {
                ids.push(id);
            }
            u = src;
        }
        let names: FxHashMap<u32, &String> = self.steps.iter().map(|(k, &i)| (i, k)).collect();
        ids.iter().rev().map(|i| names[i].clone()).collect()
    }

    /// The shape with these step keys in this heap, if any node has it.
    pub fn find(&self, keys: &[String]) -> Option<u32> {
        find_in(&self.last, &self.steps, &self.shapes, keys)
    }

    /// The shape of every node (the root and nodes never asked for: [`u32::MAX`]) and the
    /// interned tables without the heap: what `heap leaks` keeps of its first snapshot to
    /// find a shape by its keys after that snapshot is closed.
    pub fn into_parts(self) -> (Vec<u32>, ShapeTable) {
        let table = ShapeTable {
            last: self.last,
            steps: self.steps,
            shapes: self.shapes,
        };
        (self.of_node, table)
    }

    /// How many nodes of class index `class` have shape `keys` ([`Shapes::members`] counted
    /// without listing them: a class can have millions of objects, and this runs while the
    /// last snapshot of `heap leaks` is open).
    ///
    /// Down the BFS tree from the root, only into nodes whose shape is still a prefix of
    /// `keys`: asking each object of the class its shape walked most of the heap for a class
    /// like `(string)` (1.2 s of a 1.4 GB snapshot's `heap leaks`, most of it cache misses
    /// in the step tables), while the nodes on the shape's prefixes are a few.
    pub fn population(&mut self, class: u32, keys: &[String]) -> u64 {
        let h = self.h;
        if keys.is_empty() {
            // The empty shape is the root's and that of the nodes the BFS did not reach.
            let of_class =
                || (0..h.node_count() as u32).filter(|&v| h.class_of[v as usize] == class);
            for v in of_class() {
                self.of(v);
            }
            return of_class()
                .filter(|&v| v != h.graph.root && self.of_node[v as usize] == ROOT)
                .count() as u64;
        }
        let g = &h.graph;
        // Repeated steps fold, as they do in a shape.
        let mut keys = keys.to_vec();
        keys.dedup();
        // The step ids of `keys`, looked up again while one is unknown: the steps are
        // interned as the walk meets them.
        let mut target: Vec<Option<u32>> =
            keys.iter().map(|k| self.steps.get(k).copied()).collect();
        let mut known = self.steps.len();
        let mut count = 0;
        // (node, how many steps of `keys` its shape is): repeats of a step fold into one.
        let mut stack: Vec<(u32, usize)> = vec![(g.root, 0)];
        let mut walked = 0;
        while let Some((u, i)) = stack.pop() {
            walked += 1;
            crate::cancel::point(walked);
            for e in g.edges(u) {
                let c = g.edge_to[e];
                // The root is no one's child (a malformed snapshot can give it a parent
                // edge in the BFS; `of` stops at it too).
                if h.parent_edge[c as usize] != e as u32 || c == g.root {
                    continue;
                }
                let step = Some(self.step(c, e, u));
                if self.steps.len() != known {
                    known = self.steps.len();
                    for (t, k) in target.iter_mut().zip(&keys) {
                        *t = self.steps.get(k).copied();
                    }
                }
                let j = if i > 0 && step == target[i - 1] {
                    i
                } else if i < keys.len() && step == target[i] {
                    i + 1
                } else {
                    continue;
                };
                if j == keys.len() && h.class_of[c as usize] == class {
                    count += 1;
                }
                stack.push((c, j));
            }
        }
        count
    }

    /// The nodes of class index `class` that have shape `keys` (see [`Shapes::population`]).
    pub fn members(&mut self, class: u32, keys: &[String]) -> Vec<u32> {
        let h = self.h;
        let of_class: Vec<u32> = (0..h.node_count() as u32)
            .filter(|&v| h.class_of[v as usize] == class)
            .collect();
        for &v in &of_class {
            self.of(v);
        }
        let Some(id) = self.find(keys) else {
            return Vec::new();
        };
        of_class
            .into_iter()
            .filter(|&v| self.of_node[v as usize] == id)
            .collect()
    }
}

/// The interned shapes of a heap that is closed ([`Shapes::into_parts`]).
pub struct ShapeTable {
    last: Vec<u32>,
    steps: FxHashMap<String, u32>,
    shapes: FxHashMap<(u32, u32), u32>,
}

impl ShapeTable {
    /// How many shapes (for the stage timings).
    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// The shape with these step keys, if any node had it.
    pub fn find(&self, keys: &[String]) -> Option<u32> {
        find_in(&self.last, &self.steps, &self.shapes, keys)
    }
}

fn find_in(
    last: &[u32],
    steps: &FxHashMap<String, u32>,
    shapes: &FxHashMap<(u32, u32), u32>,
    keys: &[String],
) -> Option<u32> {
    let mut id = ROOT;
    for k in keys {
        let step = *steps.get(k)?;
        id = if last[id as usize] == step {
            id
        } else {
            *shapes.get(&(id, step))?
        };
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testheap::heap;

    /// Sessions in an object keyed by random ids (express-session's MemoryStore), and a
    /// small object whose two fields stay apart.
    #[test]
    fn the_entries_of_an_object_used_as_a_map_share_one_shape() {
        let mut nodes = vec![
            ("synthetic", "", 0),
            ("object", "MemoryStore", 32),
            ("object", "Object", 32), // 2: sessions
            ("object", "Config", 32), // 3
            ("string", "a", 16),      // 4
            ("string", "b", 16),      // 5
        ];
        let mut edges = vec![
            (0, "element", "1", 1),
            (0, "element", "2", 3),
            (1, "property", "sessions", 2),
            (3, "property", "host", 4),
            (3, "property", "user", 5),
        ];
        let ids = ["Xk3_abQ", "pL9-zzT", "mmQ2_rt"];
        for i in 0..(MAP_KEYS + 6) {
            nodes.push(("string", "{\"cookie\":{}}", 120));
            let name = format!("{}{}", ids[i % 3], "qwerty".repeat(i % 5));
            let name: &'static str = Box::leak(name.into_boxed_str());
            edges.push((2, "property", name, nodes.len() - 1));
        }
        let h = heap(&nodes, &edges);
        let mut sh = Shapes::new(&h);
        let first = sh.of(6);
        assert!((7..nodes.len() as u32).all(|v| sh.of(v) == first));
        assert!(
            sh.keys_of(6).iter().any(|k| k.starts_with("[key]:")),
            "{:?}",
            sh.keys_of(6)
        );
        // A Config with two fields is no map: its fields keep their names and shapes.
        assert_ne!(sh.of(4), sh.of(5));
        assert!(sh.keys_of(4).iter().any(|k| k.starts_with("host:")));
    }

    /// The population walked down the shape's prefixes counts the same nodes as asking
    /// every object of the class its shape, on random heaps with linked chains (repeated
    /// steps fold) and objects used as maps.
    #[test]
    fn populations_down_the_prefixes_match_every_members_shape() {
        let classes = ["Node", "Item", "Cache"];
        let names = ["next", "items", "value", "0", "1"];
        for seed in 1..40u64 {
            let mut rng = crate::test_rng::Rng::new(seed);
            let n = 8 + rng.below(60) as usize;
            let mut nodes = vec![("synthetic", "", 0)];
            for _ in 1..n {
                match rng.below(4) {
                    0 => nodes.push(("string", "s", 16)),
                    k => nodes.push(("object", classes[k as usize - 1], 32)),
                }
            }
            let mut edges = vec![(0, "element", "1", 1)];
            for _ in 0..n * 2 {
                let from = rng.below(n as u64) as usize;
                let to = 1 + rng.below(n as u64 - 1) as usize;
                if nodes[from].0 == "string" {
                    continue;
                }
                let name = names[rng.below(names.len() as u64) as usize];
                let ty = if name.parse::<u32>().is_ok() {
                    "element"
                } else {
                    "property"
                };
                edges.push((from, ty, name, to));
            }
            // A chain: each link's `next` repeats the step before it.
            for v in 2..n.min(12) {
                edges.push((v - 1, "property", "next", v));
            }
            // One object with more than MAP_KEYS properties.
            if seed % 3 == 0 {
                for k in 0..MAP_KEYS + 2 {
                    let name: &'static str = Box::leak(format!("key{k}").into_boxed_str());
                    let to = 1 + rng.below(n as u64 - 1) as usize;
                    if nodes[1].0 != "string" {
                        edges.push((1, "property", name, to));
                    }
                }
            }
            let h = heap(&nodes, &edges);
            let mut walked = Shapes::new(&h);
            let mut asked = Shapes::new(&h);
            for v in 0..h.node_count() as u32 {
                let keys = walked.keys_of(v);
                // A repeated step folds, in the keys asked as in a shape.
                let mut doubled = keys.clone();
                if let Some(k) = keys.first() {
                    doubled.insert(0, k.clone());
                }
                for class in 0..h.class_names.len() as u32 {
                    let want = asked.members(class, &keys).len() as u64;
                    assert_eq!(
                        walked.population(class, &doubled),
                        want,
                        "seed {seed}, doubled"
                    );
                    assert_eq!(
                        walked.population(class, &keys),
                        want,
                        "seed {seed}, node {v}, class {}, keys {keys:?}",
                        h.class_names[class as usize]
                    );
                }
            }
        }
    }
}
