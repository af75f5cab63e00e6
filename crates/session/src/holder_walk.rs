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

/// A name to search for, with the snapshot's evidence of how it grew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub ident: String,
    /// The calls that fit the growth the snapshots saw (`set` for a Map, `on` for an emitter
    /// whose `_events` grew, `push` for array elements): their lines rank first.
    pub fits: &'static [&'static str],
}

/// Which calls grow an object of `class` whose growth went through the edge `below` and then
/// reached `value` (the class of the first JS object under it: a Map's value).
fn fitting_calls(class: &str, below: Option<&str>, value: Option<&str>) -> &'static [&'static str] {
    match (class, below) {
        // The Map's entries are few; what grew are the elements of an entry's value:
        // `m.get(k).push(v)`, not the `m.set(k, [])` that made the entry.
        ("Map", _) if matches!(value, Some("Array" | "Set" | "Map")) => &["get().", "set"],
        (_, Some("_events")) => &["on", "once", "addListener", "prependListener"],
        ("Map", _) => &["set"],
        ("Set", _) => &["add"],
        ("Array", _) => &["push", "unshift", "splice", "["],
        (_, Some(b)) if b.starts_with('[') => &["push", "unshift", "splice", "["],
        _ if class.contains("Emitter") => &["on", "once", "addListener", "prependListener"],
        _ => &[],
    }
}

/// The identifiers on `steps` from the holder up towards the roots: properties and scope
/// variables of JS objects (not V8's internals), each once.
pub fn names(steps: &[Step]) -> Vec<Name> {
    let Some(h) = holder_index(steps) else {
        return Vec::new();
    };
    let mut out: Vec<Name> = Vec::new();
    // The suspect itself under a name of its own: one string that a handler appends to
    // (`log ((concatenated string))`) is what grows, not the function whose scope holds it.
    if let Some(last) = steps
        .last()
        .filter(|l| l.edge_type == "context" || l.edge_type == "property")
    {
        if let Some(id) = holder_identifier(&last.edge) {
            if last.class.contains("string") {
                out.push(Name {
                    ident: id.to_string(),
                    fits: &["+="],
                });
            }
        }
    }
    for i in (0..=h).rev() {
        let s = &steps[i];
        if !matches!(s.edge_type.as_str(), "property" | "context") || s.class.starts_with('(') {
            continue;
        }
        if let Some(id) = holder_identifier(&s.edge) {
            if !out.iter().any(|n| n.ident == id) {
                let below = steps.get(i + 1).map(|b| b.edge.as_str());
                // The first object under the holder that is not V8's own (`table`, `(array)`).
                let value = steps[i + 1..]
                    .iter()
                    .take(3)
                    .find(|b| {
                        !b.class.is_empty()
                            && !b.class.starts_with('(')
                            && !b.class.starts_with("system")
                    })
                    .filter(|b| b.edge_type != "property" || s.class != "Map")
                    .map(|b| b.class.as_str());
                out.push(Name {
                    ident: id.to_string(),
                    fits: fitting_calls(&s.class, below, value),
                });
            }
        }
        if out.len() == MAX_NAMES {
            break;
        }
    }
    out
}

/// Which of `fits` a `grows` line grows `ident` by (`ident.set(`, `ident[k] =`), as its rank:
/// the first fitting call ranks first, a line that fits none last.
fn fits(code: &str, ident: &str, fits: &[&str]) -> usize {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    fits.iter()
        .position(|m| {
            if *m == "get()." {
                // `ident.get(k).push(v)`: the chained call grows the entry's value.
                code.find(&format!("{ident}.get("))
                    .is_some_and(|i| code[i..].contains(")."))
            } else if *m == "+=" {
                code.contains(&format!("{ident}+="))
            } else if *m == "[" {
                code.contains(&format!("{ident}["))
            } else {
                code.contains(&format!("{ident}.{m}(")) || code.contains(&format!("{ident}?.{m}("))
            }
        })
        .unwrap_or(fits.len())
}

/// Node's own names for a pending timer on a retainer path: what holds it is the app's call
/// to `setTimeout(`/`setInterval(`, which never names them.
const TIMER_NAMES: &[&str] = &["_onTimeout", "_idleNext", "_idlePrev", "timerListMap"];

/// The app's lines that arm a timer (`setTimeout(`, `setInterval(`, not in a string or comment).
fn timer_lines(files: &[(String, String)]) -> Vec<SourceLine> {
    let mut out = Vec::new();
    for (name, text) in files {
        for (i, line) in text.lines().enumerate() {
            let code = crate::source_lines::code_only(line);
            let arms = ["setTimeout(", "setInterval("].iter().any(|t| {
                code.match_indices(t).any(|(k, _)| {
                    !code[..k]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                })
            });
            if arms && out.len() < 3 {
                out.push(SourceLine {
                    kind: "grows".into(),
                    location: format!("{name}:{}", i + 1),
                    code: line.trim().chars().take(160).collect(),
                });
            }
        }
    }
    out
}

/// The source lines of the nearest name that the app grows (the lines whose call fits the
/// snapshot's evidence first); failing that, of the nearest name the app's files mention.
pub fn lines(names: &[Name], files: &[(String, String)]) -> Vec<SourceLine> {
    let mut fallback = Vec::new();
    for (i, n) in names.iter().enumerate() {
        // Only next to the holder: a shortest path often passes Node's timer list on its way
        // from the roots to the app, far above what leaks.
        if i < 2 && TIMER_NAMES.contains(&n.ident.as_str()) {
            let armed = timer_lines(files);
            if !armed.is_empty() {
                return armed;
            }
        }
        let mut found = find(&n.ident, files);
        if found.iter().any(|l| l.kind == "grows") {
            // Stable: file order stays within each rank; `declared` stays last.
            found.sort_by_key(|l| (l.kind != "grows", fits(&l.code, &n.ident, n.fits)));
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
        let got = names(&listener_path());
        let idents: Vec<&str> = got.iter().map(|n| n.ident.as_str()).collect();
        assert_eq!(idents, ["_events", "bus"]);
        // `bus` grew through `_events`: listeners.
        assert_eq!(got[1].fits[0], "on");
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

    #[test]
    fn a_string_that_grew_is_searched_under_its_own_name() {
        // One rope held by a handler's scope: the holder is the function, the name is `log`.
        let path = vec![
            step("1", "element", "(GC roots)"),
            step("handle", "property", "Function"),
            step("context", "internal", "(system)"),
            step("log", "context", "(concatenated string)"),
        ];
        let got = names(&path);
        assert_eq!(got[0].ident, "log");
        assert_eq!(got[1].ident, "handle");
        let files = vec![(
            "app.js".to_string(),
            "let log = '';\nfunction handle(req) {\n  log = log.slice(0);\n  log += req.url;\n}\n"
                .to_string(),
        )];
        let got = lines(&got, &files);
        assert_eq!(got[0].location, "app.js:4", "{got:?}");
        assert_eq!(got[0].kind, "grows");
        // An object under its own name is not searched that way (its holder is).
        let mut object = path.clone();
        object[3].class = "Object".into();
        assert_eq!(names(&object)[0].ident, "handle");
    }

    #[test]
    fn a_pending_timer_names_the_line_that_armed_it() {
        let path = vec![
            step("1", "element", "(GC roots)"),
            step("timerListMap", "context", "Object"),
            step("3600000", "property", "TimersList"),
            step("_idleNext", "property", "Timeout"),
            step("_onTimeout", "property", "Function"),
            step("context", "internal", "(system)"),
            step("ctx", "context", "Object"),
        ];
        let files = vec![(
            "app.js".to_string(),
            "// setTimeout(x) in a comment\nlet ctx = {};\nsetTimeout(() => ctx, 1000);\nclearTimeout(t);\n"
                .to_string(),
        )];
        let got = lines(&names(&path), &files);
        assert_eq!(got[0].location, "app.js:3", "{got:?}");
        assert_eq!(got[0].kind, "grows");
    }

    #[test]
    fn the_call_that_fits_the_growth_ranks_first() {
        // The snapshots saw the emitter's listeners grow: `bus.on(` beats an earlier line
        // that grows it another way.
        let files = vec![(
            "app.js".to_string(),
            "const bus = new Emitter();\nbus.add(config);\nbus.on('x', f);\n".to_string(),
        )];
        let got = lines(&names(&listener_path()), &files);
        assert_eq!(got[0].location, "app.js:3");
        assert_eq!(got[1].location, "app.js:2");
        assert_eq!(got[2].kind, "declared");
        // A Map's entries grew: `.set(` first; array elements grew: `.push(` and `[k] =`.
        let map_path = vec![
            step("1", "element", "(GC roots)"),
            step("users", "context", "Map"),
            step("table", "internal", "(system)"),
            step("[3]", "element", "Object"),
        ];
        let files = vec![(
            "app.js".to_string(),
            "users.push(1);\nusers.set(k, v);\nusers[k] = 1;\n".to_string(),
        )];
        assert_eq!(lines(&names(&map_path), &files)[0].location, "app.js:2");
        let array_path = vec![
            step("1", "element", "(GC roots)"),
            step("users", "context", "Array"),
            step("[3]", "element", "Object"),
        ];
        // A Map's values are arrays that grew: the chained push, not the `set` that made the
        // entry, as the snapshots of a per-user activity log show.
        let values_path = vec![
            step("1", "element", "(GC roots)"),
            step("activity", "context", "Map"),
            step("table", "internal", "(system)"),
            step("(array)", "internal", "(array)"),
            step("11", "internal", "Array"),
            step("[1283]", "element", "Object"),
        ];
        let two = vec![(
            "app.js".to_string(),
            "if (!activity.has(u)) activity.set(u, []);\nactivity.get(u).push(x);\n".to_string(),
        )];
        assert_eq!(lines(&names(&values_path), &two)[0].location, "app.js:2");
        // Entries themselves grew (no value under them): the `set`.
        let entries_path = vec![
            step("1", "element", "(GC roots)"),
            step("activity", "context", "Map"),
            step("table", "internal", "(system)"),
            step("[3]", "element", "Object"),
        ];
        assert_eq!(lines(&names(&entries_path), &two)[0].location, "app.js:1");
        let got = lines(&names(&array_path), &files);
        let locs: Vec<&str> = got.iter().map(|l| l.location.as_str()).collect();
        assert_eq!(locs, ["app.js:1", "app.js:3", "app.js:2"]);
    }
}
