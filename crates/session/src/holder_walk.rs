//! Which names to search the app's source for. The direct holder of a leak is often a field
//! inside a package or a class (`_events`, `_cacheMap`, `handlers`, `data`) that the app never
//! writes; the line to change names the app's own variable further up the retainer path
//! (`bus` in `bus.on(...)`, `userLoader` in `userLoader.load(...)`). So the path is walked up
//! from the holder, and the nearest name whose lines grow it in the app's files wins.

use leakhound_heap::app_path::holder_index;
use leakhound_heap::paths::Step;
use leakhound_report::run_schema::SourceLine;

use crate::source_lines::{find, holder_identifier};

/// Names tried per suspect, nearest the holder first.
const MAX_NAMES: usize = 6;

/// The identifiers on `steps` from the holder up towards the roots: properties and scope
/// variables of JS objects (not V8's internals), each once.
pub fn names(steps: &[Step]) -> Vec<String> {
    let Some(h) = holder_index(steps) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for s in steps[..=h].iter().rev() {
        if !matches!(s.edge_type.as_str(), "property" | "context") || s.class.starts_with('(') {
            continue;
        }
        if let Some(id) = holder_identifier(&s.edge) {
            if !out.iter().any(|n| n == id) {
                out.push(id.to_string());
            }
        }
        if out.len() == MAX_NAMES {
            break;
        }
    }
    out
}

/// The source lines of the nearest name that the app grows; failing that, of the nearest
/// name the app's files mention at all.
pub fn lines(names: &[String], files: &[(String, String)]) -> Vec<SourceLine> {
    let mut fallback = Vec::new();
    for n in names {
        let found = find(n, files);
        if found.iter().any(|l| l.kind == "grows") {
            return found;
        }
        if fallback.is_empty() {
            fallback = found;
        }
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(edge: &str, edge_type: &str, class: &str) -> Step {
        Step {
            edge: edge.into(),
            edge_type: edge_type.into(),
            class: class.into(),
            node_id: 1,
        }
    }

    /// `bus > _events > config:reload (Array) > [7] (Function)`, as a listener leak reads.
    fn listener_path() -> Vec<Step> {
        vec![
            step("1", "element", "(GC roots)"),
            step("context", "internal", "(system)"),
            step("bus", "context", "EventEmitter"),
            step("_events", "property", "Object"),
            step("config:reload", "property", "Array"),
            step("[7]", "element", "Function"),
        ]
    }

    #[test]
    fn the_walk_goes_from_the_holder_up_to_the_apps_names() {
        assert_eq!(names(&listener_path()), ["_events", "bus"]);
        assert!(names(&listener_path()[..1]).is_empty());
    }

    #[test]
    fn a_field_inside_a_package_gives_way_to_the_apps_variable() {
        let files = vec![(
            "app.js".to_string(),
            "const bus = new EventEmitter();\nfunction h() {\n  bus.on('config:reload', () => {});\n}\n"
                .to_string(),
        )];
        let got = lines(&names(&listener_path()), &files);
        let kinds: Vec<(&str, &str)> = got
            .iter()
            .map(|l| (l.kind.as_str(), l.location.as_str()))
            .collect();
        assert_eq!(kinds, [("grows", "app.js:3"), ("declared", "app.js:1")]);
        // The holder's own name wins when the app grows it.
        let files = vec![(
            "app.js".to_string(),
            "const bus = {};\nbus._events = {};\nbus._events.x = 1;\nbus.on(1);\n_events.push(1);\n"
                .to_string(),
        )];
        assert_eq!(
            lines(&names(&listener_path()), &files)[0].location,
            "app.js:5"
        );
        // Nothing grows anything: the nearest name that is mentioned.
        let files = vec![(
            "app.js".to_string(),
            "let _events = 1;\nconst bus = 2;\n".to_string(),
        )];
        assert_eq!(
            lines(&names(&listener_path()), &files)[0].location,
            "app.js:1"
        );
    }
}
