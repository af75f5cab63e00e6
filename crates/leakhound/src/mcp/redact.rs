//! `--redact-strings`: keep the strings of a heap snapshot out of what an agent sees.
//!
//! A snapshot holds the application's data: a `Map` keyed by e-mail addresses shows up as
//! retainer edges named `alice@example.com`, a cached token as a quoted string value. The
//! structure (classes, sizes, counts, edge kinds) is what diagnosis needs, so redaction keeps
//! identifiers (`responseCache`, `table`), numbers (element indexes) and V8's own names
//! (`(object elements)`, `<symbol>`), and replaces every other edge name and every quoted span
//! with `[redacted]`, wherever they appear (paths, steps, sentences, titles).

use serde_json::Value;

pub const REDACTED: &str = "[redacted]";

/// Keys whose values are leakhound's own words or enums, never snapshot data.
const KEEP: &[&str] = &[
    "schema",
    "kind",
    "edge_type",
    "verdict",
    "leak_kind",
    "phase",
];

/// Whether an edge name can be shown: an identifier, an index, or a V8-internal name.
fn is_safe_name(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || s.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    if (s.starts_with('(') && s.ends_with(')')) || (s.starts_with('<') && s.ends_with('>')) {
        return !s.contains(['"', '\'']);
    }
    let mut chars = s.chars();
    let first = chars.next().unwrap_or('0');
    (first.is_alphabetic() || first == '_' || first == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// Redact a heap document (`leakhound.heap.*/v1`) in place: every string in it.
pub fn heap_doc(doc: &mut Value) {
    let mut names = Vec::new();
    collect_unsafe_edges(doc, &mut names);
    names.sort_by_key(|n: &String| std::cmp::Reverse(n.len()));
    names.dedup();
    scrub(doc, &names);
}

/// Redact a run document's snapshot-derived part (`suspects`) in place.
pub fn run_doc(doc: &mut Value) {
    if let Some(s) = doc.get_mut("suspects") {
        heap_doc(s);
    }
}

fn collect_unsafe_edges(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("edge", Value::String(s)) if !is_safe_name(s) => out.push(s.clone()),
                    ("path", Value::String(s)) => path_edges(s, out),
                    ("path", Value::Array(a)) => {
                        for s in a.iter().filter_map(Value::as_str) {
                            path_edges(s, out);
                        }
                    }
                    _ => collect_unsafe_edges(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_unsafe_edges(x, out)),
        _ => {}
    }
}

/// The unsafe edge names of a rendered path (`global > user@x.org (Object) > …`).
fn path_edges(path: &str, out: &mut Vec<String>) {
    for seg in path.split(" > ") {
        let edge = match seg.rfind(" (") {
            Some(at) if seg.ends_with(')') => &seg[..at],
            _ => continue,
        };
        if !is_safe_name(edge) {
            out.push(edge.to_string());
        }
    }
}

fn scrub(v: &mut Value, names: &[String]) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if KEEP.contains(&k.as_str()) {
                    continue;
                }
                scrub(x, names);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scrub(x, names)),
        Value::String(s) => *s = scrub_str(s, names),
        _ => {}
    }
}

/// Quoted spans first (a string value printed as `"…"`), then the unsafe edge names.
fn scrub_str(s: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(['"', '\'']) {
        let q = rest.as_bytes()[at] as char;
        match rest[at + 1..].find(q) {
            Some(end) => {
                out.push_str(&rest[..at]);
                out.push(q);
                out.push_str(REDACTED);
                out.push(q);
                rest = &rest[at + 1 + end + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    for n in names {
        if out.contains(n.as_str()) {
            out = out.replace(n.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_keys_and_quoted_values_go_identifiers_stay() {
        let mut doc = json!({
            "schema": "leakhound.heap.leaks/v1",
            "groups": [{
                "path": "(GC roots) > global > sessions (Object) > alice@example.com (Object)",
                "path_steps": [
                    {"edge": "sessions", "edge_type": "property", "class": "Object"},
                    {"edge": "alice@example.com", "edge_type": "property", "class": "Object"},
                    {"edge": "12", "edge_type": "element", "class": "(object elements)"}
                ],
                "sentence": "held by alice@example.com, value \"tok-123\"",
            }]
        });
        heap_doc(&mut doc);
        let text = doc.to_string();
        assert!(!text.contains("alice@example.com"), "{text}");
        assert!(!text.contains("tok-123"), "{text}");
        assert!(text.contains("sessions (Object)"), "{text}");
        assert!(text.contains("(object elements)"), "{text}");
        assert_eq!(doc["groups"][0]["path_steps"][2]["edge"], "12");
        assert_eq!(doc["groups"][0]["path_steps"][1]["edge"], REDACTED);
        assert_eq!(doc["schema"], "leakhound.heap.leaks/v1");
    }

    #[test]
    fn a_run_keeps_everything_but_its_suspects() {
        let mut doc = json!({
            "evidence": ["\"quoted\" evidence stays"],
            "suspects": [{"title": "Map 'k-1'", "path": ["global", "a-b (Map)"]}]
        });
        run_doc(&mut doc);
        assert_eq!(doc["evidence"][0], "\"quoted\" evidence stays");
        assert_eq!(doc["suspects"][0]["title"], "Map '[redacted]'");
        assert_eq!(doc["suspects"][0]["path"][1], "[redacted] (Map)");
    }
}
