//! The parsed snapshot as a struct of arrays: one vector per field, indexed by node ordinal or
//! edge ordinal. This is half the memory of an array of structs with padding and keeps the hot
//! loops (dominators, BFS) on dense, cache-friendly data.

/// Type codes resolved from `snapshot.meta` by name; `NONE` when this V8 lacks the type.
#[derive(Debug, Clone, Copy)]
pub struct TypeIds {
    pub hidden: u8,
    pub array: u8,
    pub string: u8,
    pub object: u8,
    pub code: u8,
    pub closure: u8,
    pub regexp: u8,
    pub native: u8,
    pub synthetic: u8,
    pub cons_string: u8,
    pub sliced_string: u8,
    pub e_context: u8,
    pub e_element: u8,
    pub e_property: u8,
    pub e_internal: u8,
    pub e_hidden: u8,
    pub e_shortcut: u8,
    pub e_weak: u8,
}

pub const NONE: u8 = u8::MAX;

impl TypeIds {
    pub fn resolve(node_types: &[String], edge_types: &[String]) -> TypeIds {
        let n = |s: &str| {
            node_types
                .iter()
                .position(|t| t == s)
                .map_or(NONE, |i| i as u8)
        };
        let e = |s: &str| {
            edge_types
                .iter()
                .position(|t| t == s)
                .map_or(NONE, |i| i as u8)
        };
        TypeIds {
            hidden: n("hidden"),
            array: n("array"),
            string: n("string"),
            object: n("object"),
            code: n("code"),
            closure: n("closure"),
            regexp: n("regexp"),
            native: n("native"),
            synthetic: n("synthetic"),
            cons_string: n("concatenated string"),
            sliced_string: n("sliced string"),
            e_context: e("context"),
            e_element: e("element"),
            e_property: e("property"),
            e_internal: e("internal"),
            e_hidden: e("hidden"),
            e_shortcut: e("shortcut"),
            e_weak: e("weak"),
        }
    }
}

/// A heap snapshot's graph. Node and edge fields are those of `snapshot.meta`, mapped by name.
#[derive(Debug, Default)]
pub struct Graph {
    pub strings: Strings,
    pub node_types: Vec<String>,
    pub edge_types: Vec<String>,
    pub node_type: Vec<u8>,
    pub node_name: Vec<u32>,
    /// V8's `SnapshotObjectId` is 32-bit.
    pub node_id: Vec<u32>,
    /// Self sizes exactly as written by V8 (a 5 GiB ArrayBuffer's too: see [`Sizes`]).
    pub self_size: crate::sizes::Sizes,
    /// V8's DOM link state per node (0 unknown, 1 attached, 2 detached); empty when the
    /// snapshot's V8 predates the field.
    pub detachedness: Vec<u8>,
    /// `first_edge[n]..first_edge[n + 1]` are node `n`'s outgoing edges; length nodes + 1.
    pub first_edge: Vec<u32>,
    pub edge_type: Vec<u8>,
    /// A string index for named edges, a number for `element` and `hidden` edges.
    pub edge_name: Vec<u32>,
    /// Target node ordinal (the file stores node index = ordinal × field count).
    pub edge_to: Vec<u32>,
    pub root: u32,
}

impl Graph {
    pub fn node_count(&self) -> usize {
        self.node_type.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edge_to.len()
    }

    pub fn types(&self) -> TypeIds {
        TypeIds::resolve(&self.node_types, &self.edge_types)
    }

    pub fn edges(&self, n: u32) -> std::ops::Range<usize> {
        self.first_edge[n as usize] as usize..self.first_edge[n as usize + 1] as usize
    }

    pub fn name(&self, n: u32) -> &str {
        &self.strings[self.node_name[n as usize] as usize]
    }

    pub fn type_name(&self, n: u32) -> &str {
        self.node_types
            .get(self.node_type[n as usize] as usize)
            .map_or("?", |s| s.as_str())
    }

    /// Whether the edge's `name_or_index` is a string index (DevTools: not element/hidden).
    pub fn edge_has_string_name(&self, e: usize, t: &TypeIds) -> bool {
        let ty = self.edge_type[e];
        ty != t.e_element && ty != t.e_hidden
    }

    /// The edge name as DevTools prints it: the string, or `[index]` for elements.
    pub fn edge_label(&self, e: usize, t: &TypeIds) -> String {
        if self.edge_has_string_name(e, t) {
            self.strings
                .get(self.edge_name[e] as usize)
                .unwrap_or_default()
                .to_string()
        } else {
            format!("[{}]", self.edge_name[e])
        }
    }

    pub fn edge_name_str(&self, e: usize, t: &TypeIds) -> Option<&str> {
        if self.edge_has_string_name(e, t) {
            self.strings.get(self.edge_name[e] as usize)
        } else {
            None
        }
    }
}

/// The snapshot's string table in one buffer: millions of short strings as separate `String`s
/// cost a heap block each (three times the text itself on a 1 GB snapshot, and a malloc call
/// per string while parsing).
#[derive(Debug, Default, Clone)]
pub struct Strings {
    data: String,
    /// `ends[i]` is where string `i` ends in `data` (it starts where `i - 1` ends).
    ends: Vec<u64>,
}

impl Strings {
    pub fn new() -> Strings {
        Strings::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.data.get(start..end)
    }

    pub fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.end_string();
    }

    /// Close the string whose text was appended with [`Strings::text`].
    pub fn end_string(&mut self) {
        self.ends.push(self.data.len() as u64);
    }

    /// The buffer the next string's text is appended to (then call [`Strings::end_string`]).
    pub fn text(&mut self) -> &mut String {
        &mut self.data
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }
}

impl std::ops::Index<usize> for Strings {
    type Output = str;
    #[inline]
    fn index(&self, i: usize) -> &str {
        self.get(i).expect("string index in range")
    }
}

impl<S: AsRef<str>> FromIterator<S> for Strings {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Strings {
        let mut t = Strings::new();
        for s in iter {
            t.push(s.as_ref());
        }
        t
    }
}
