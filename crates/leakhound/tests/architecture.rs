//! The shape of the code, checked: no file-level import cycles in any crate, and the session
//! crate's files stay small (issue "one model of a run": no file over 400 lines).
//!
//! A cycle between two files (`a.rs` uses `b.rs` and `b.rs` uses `a.rs`) means neither can be
//! read, tested or moved alone; it is how the old `conclude` grew to 800 lines. The check reads
//! every `crate::…` path in a crate's sources (in `use` lines and in code, test modules
//! included), resolves it to the file of the module it names, and looks for strongly connected
//! components in that graph. The crate root (`lib.rs`, `main.rs`) only wires modules together
//! and re-exports them, so it is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `src`, keyed by its module path (`render::run`).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            let name = parts.join("::");
            if name == "lib" || name == "main" || parts.first().is_some_and(|f| f == "bin") {
                continue;
            }
            out.insert(name, p);
        }
    }
    out
}

/// The paths named after each `crate::` in `text`, with `crate::{a, b::c}` groups expanded.
fn crate_paths(text: &str) -> Vec<String> {
    fn ident_path(s: &str) -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect::<String>()
            .trim_end_matches(':')
            .to_string()
    }
    fn group(s: &str, prefix: &str, out: &mut Vec<String>) {
        // `s` starts just after `{`; split its top level at commas.
        let mut depth = 0;
        let mut item = String::new();
        for c in s.chars() {
            match c {
                '{' => {
                    depth += 1;
                    item.push(c);
                }
                '}' if depth == 0 => {
                    push_item(&item, prefix, out);
                    return;
                }
                '}' => {
                    depth -= 1;
                    item.push(c);
                }
                ',' if depth == 0 => {
                    push_item(&item, prefix, out);
                    item.clear();
                }
                _ => item.push(c),
            }
        }
    }
    fn push_item(item: &str, prefix: &str, out: &mut Vec<String>) {
        let item = item.trim();
        if item.is_empty() || item == "self" {
            return;
        }
        let head = ident_path(item);
        let full = if prefix.is_empty() {
            head.clone()
        } else {
            format!("{prefix}::{head}")
        };
        let rest = &item[head.len()..];
        if let Some(inner) = rest.trim_start_matches(':').strip_prefix('{') {
            group(inner, &full, out);
        } else {
            out.push(full);
        }
    }
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        // `leakhound_crate::` or `$crate::` are other things.
        if text[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        if let Some(inner) = rest.strip_prefix('{') {
            group(inner, "", &mut out);
        } else {
            out.push(ident_path(rest));
        }
    }
    out
}

/// The module a path names: its longest prefix that is a module of the crate.
fn resolve<'a>(path: &str, mods: &'a BTreeMap<String, PathBuf>) -> Option<&'a str> {
    let segs: Vec<&str> = path.split("::").collect();
    (1..=segs.len())
        .rev()
        .map(|n| segs[..n].join("::"))
        .find_map(|p| mods.get_key_value(&p).map(|(k, _)| k.as_str()))
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, file) in &mods {
        // Doc links (`[`crate::run`]`) and comments are not imports.
        let text: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let deps = edges.entry(name.clone()).or_default();
        for p in crate_paths(&text) {
            if let Some(m) = resolve(&p, &mods) {
                // A module using its own submodule (`render` → `render::run`) or its parent
                // (`render::run` → `render`) is one unit, not a cycle between peers.
                let nested = m.starts_with(&format!("{name}::"))
                    || name.starts_with(&format!("{m}::"))
                    || m == name;
                if !nested {
                    deps.insert(m.to_string());
                }
            }
        }
    }
    edges
}

#[test]
fn the_parser_of_crate_paths_reads_groups_and_nested_groups() {
    let paths = crate_paths(
        "use crate::a::B;\nuse crate::{c, d::{E, f::G}, self};\nlet x = crate::h::i();\n\
         use leakhound_crate::z; macro_rules! m { () => { $crate::y } }",
    );
    assert_eq!(paths, ["a::B", "c", "d::E", "d::f::G", "h::i"]);
}

#[test]
fn a_cycle_between_two_files_is_found() {
    let mut e: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    e.entry("a".into()).or_default().insert("b".into());
    e.entry("b".into()).or_default().insert("c".into());
    e.entry("c".into()).or_default().insert("a".into());
    e.entry("d".into()).or_default().insert("a".into());
    assert_eq!(cycles(&e), vec![vec!["a", "b", "c"]]);
}

#[test]
fn no_crate_has_a_file_level_import_cycle() {
    let mut found = Vec::new();
    for e in std::fs::read_dir(repo().join("crates")).unwrap() {
        let src = e.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        for c in cycles(&import_graph(&src)) {
            found.push(format!("{}: {}", src.display(), c.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn no_file_of_the_session_crate_is_over_400_lines() {
    let src = repo().join("crates/session/src");
    let big: Vec<String> = modules(&src)
        .values()
        .filter_map(|p| {
            let n = std::fs::read_to_string(p).unwrap().lines().count();
            (n > 400).then(|| format!("{} ({n} lines)", p.display()))
        })
        .collect();
    assert!(big.is_empty(), "{big:?}");
}
