//! The app's line for a leak held inside a package. When no name on the retainer path is one
//! the app uses (express-session's `store > sessions` lives in a closure the app never names),
//! the app's line to change is where it calls the package: the path's words (`sessions`,
//! `MemoryStore`) name the package (`express-session`), and the app's calls of what it imported
//! from that package (`session({ ... })`) are the lines.

use leakhound_heap::paths::Step;
use leakhound_report::run_schema::SourceLine;

use crate::source_lines::code_only;

/// Lines reported.
const MAX_LINES: usize = 3;

/// Lower-case words of at least 3 letters: `MemoryStore` → `memory`, `store`;
/// `express-session` → `express`, `session`.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        let split = !c.is_alphanumeric() || (c.is_uppercase() && prev_lower);
        if split && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase();
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|w| w.len() >= 3 && !w.bytes().all(|b| b.is_ascii_digit()));
    out
}

/// `(binding, package)` for each `const x = require('pkg')`, `const { a } = require('pkg')`,
/// `import x from 'pkg'`, `import { a } from 'pkg'` of a package (not a relative path, not
/// `node:`).
pub fn bindings(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let spec = ["require(", " from "].iter().find_map(|k| {
            let rest = line[line.find(k)? + k.len()..].trim_start();
            let q = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
            Some(&rest[1..1 + rest[1..].find(q)?])
        });
        let Some(pkg) = spec else { continue };
        if pkg.starts_with('.') || pkg.starts_with("node:") || pkg.starts_with('/') {
            continue;
        }
        let head = line
            .split(['=', '\''])
            .next()
            .unwrap_or("")
            .replace("import", " ")
            .replace(" from", " ");
        for name in head.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
            if !name.is_empty() && !matches!(name, "const" | "let" | "var" | "as" | "require") {
                out.push((name.to_string(), pkg.to_string()));
            }
        }
    }
    out
}

/// The app's lines that call into the package the path's words name best, as `grows` lines.
pub fn lines(steps: &[Step], files: &[(String, String)]) -> Vec<SourceLine> {
    let path_words: Vec<String> = steps
        .iter()
        .flat_map(|s| words(&s.edge).into_iter().chain(words(&s.class)))
        .collect();
    let score = |pkg: &str| {
        words(pkg)
            .iter()
            .filter(|t| {
                path_words
                    .iter()
                    .any(|w| w.starts_with(t.as_str()) || t.starts_with(w.as_str()))
            })
            .count()
    };
    let all: Vec<(String, String)> = files.iter().flat_map(|(_, t)| bindings(t)).collect();
    let Some(best) = all
        .iter()
        .map(|(_, p)| (score(p), p))
        .filter(|(s, _)| *s > 0)
        .max_by_key(|(s, _)| *s)
        .map(|(_, p)| p.clone())
    else {
        return Vec::new();
    };
    let names: Vec<&str> = all
        .iter()
        .filter(|(_, p)| *p == best)
        .map(|(n, _)| n.as_str())
        .collect();
    let mut out = Vec::new();
    for (file, text) in files {
        for (i, line) in text.lines().enumerate() {
            let code = code_only(line);
            if code.contains("require(") || code.trim_start().starts_with("import ") {
                continue;
            }
            let calls = names.iter().any(|n| {
                code.match_indices(n).any(|(k, _)| {
                    let before = code[..k].chars().next_back();
                    let after = code[k + n.len()..].trim_start();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.')
                        && (after.starts_with('(') || after.starts_with('.'))
                })
            });
            if calls && out.len() < MAX_LINES {
                out.push(SourceLine {
                    kind: "grows".into(),
                    location: format!("{file}:{}", i + 1),
                    code: line.trim().chars().take(160).collect(),
                });
            }
        }
    }
    out
}

/// The app's calls on an object a package keeps under a name the app gave it as a string
/// (prom-client's registry keeps `new Histogram({ name: 'http_request_duration_seconds' })`
/// as `_metrics.http_request_duration_seconds`): the string names the app's variable (the
/// declaration it is written in, a few lines up), and the calls of that variable's methods
/// are the lines. Nearest the leak first.
pub fn named_by_string(steps: &[Step], files: &[(String, String)]) -> Vec<SourceLine> {
    for s in steps.iter().rev() {
        if s.edge.len() < 6
            || !s
                .edge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'-')
        {
            continue;
        }
        for (file, text) in files {
            let lines: Vec<&str> = text.lines().collect();
            let quoted = ['\'', '"'].map(|q| format!("{q}{}{q}", s.edge));
            // An event name (`req.on('data', …)`) is not a name the app gave an object.
            let Some(at) = lines.iter().position(|l| {
                quoted.iter().any(|q| l.contains(q.as_str()))
                    && !["on(", "once(", "emit(", "Listener("]
                        .iter()
                        .any(|e| l.contains(e))
            }) else {
                continue;
            };
            // The declaration the string is written in.
            let var = (at.saturating_sub(5)..=at).rev().find_map(|i| {
                let code = code_only(lines[i]);
                let rest = ["const ", "let ", "var "]
                    .iter()
                    .find_map(|k| code.trim_start().strip_prefix(k))?;
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                    .collect();
                (!name.is_empty()).then_some(name)
            });
            let Some(var) = var else { continue };
            let call = format!("{var}.");
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let code = code_only(line);
                let hit = code.match_indices(&call).any(|(k, _)| {
                    !code[..k]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                        && code[k + call.len()..].contains('(')
                });
                if hit && out.len() < MAX_LINES {
                    out.push(SourceLine {
                        kind: "grows".into(),
                        location: format!("{file}:{}", i + 1),
                        code: line.trim().chars().take(160).collect(),
                    });
                }
            }
            if !out.is_empty() {
                return out;
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(edge: &str, class: &str) -> Step {
        Step {
            edge: edge.into(),
            edge_type: "property".into(),
            class: class.into(),
            node_id: 1,
        }
    }

    #[test]
    fn words_split_camel_case_and_separators() {
        assert_eq!(words("MemoryStore"), ["memory", "store"]);
        assert_eq!(words("express-session"), ["express", "session"]);
        assert_eq!(words("[123] (Object)"), ["object"]);
    }

    #[test]
    fn imports_are_bound_to_their_packages() {
        let text = "const express = require('express');\nconst session = require(\"express-session\");\nimport { Counter, Histogram } from 'prom-client';\nconst { book } = require('./book');\nimport http from 'node:http';\n";
        let b = bindings(text);
        let got: Vec<(&str, &str)> = b.iter().map(|(n, p)| (n.as_str(), p.as_str())).collect();
        assert_eq!(
            got,
            [
                ("express", "express"),
                ("session", "express-session"),
                ("Counter", "prom-client"),
                ("Histogram", "prom-client"),
            ]
        );
    }

    #[test]
    fn the_package_the_path_names_gives_the_apps_call() {
        let app = vec![(
            "app.js".to_string(),
            "const express = require('express');\nconst session = require('express-session');\nconst app = express();\napp.use(session({ secret: 'x' }));\n".to_string(),
        )];
        let path = [step("store", "MemoryStore"), step("sessions", "Object")];
        let got = lines(&path, &app);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].location, "app.js:4");
        // A metric kept under the name the app gave it as a string: the app's calls on it.
        let prom = vec![(
            "app.js".to_string(),
            "const client = require('prom-client');\nconst hits = new client.Counter({\n  name: 'http_hits',\n});\nfunction h(req) {\n  hits.inc({ path: req.url });\n}\n".to_string(),
        )];
        let path = [
            step("_metrics", "Object"),
            step("http_hits", "Counter"),
            step("hashMap", "Object"),
        ];
        let got = named_by_string(&path, &prom);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].location, "app.js:6");
        assert!(named_by_string(&[step("nothing_here", "Object")], &prom).is_empty());
        // Nothing on the path names a package the app imports: nothing.
        assert!(lines(&[step("cache", "Map")], &app).is_empty());
    }
}
