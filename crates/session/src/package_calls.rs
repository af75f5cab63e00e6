//! The app's line for memory a package allocated. When the bytes that survived under an app
//! function were allocated inside a package (`handle` → `createLogger` → winston's
//! `DerivedLogger`), nothing in that function grows a holder the app names: the line to change
//! is the app's call into the package. The heaviest sampled stack under the app's frame says
//! which package (the deepest `node_modules` frame) and which of its functions the app called
//! (the frame right under the app's); the app's calls of what it imported from that package,
//! or of the objects it made with it (`const hits = new client.Counter(...)`), are the
//! candidates, the call of that function first, in the app function first, else anywhere in
//! the app (`app.use(session({ ... }))`, run once at startup).

use leakhound_report::run_schema::SourceLine;

use crate::growth_scan::body;
use crate::package_lines::bindings;
use crate::source_lines::code_only;

/// What the heaviest stack under an app frame says about the package it called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntoPackage {
    /// The package that allocated (`winston`, `@scope/name`).
    pub package: String,
    /// The package's function the app called, when the frame under the app's is the
    /// package's (`createLogger`).
    pub called: Option<String>,
}

/// `(function, location)` of a profile path entry `function (file:line)`.
fn frame(entry: &str) -> (&str, &str) {
    match entry.strip_suffix(')').and_then(|e| e.rsplit_once(" (")) {
        Some((f, loc)) => (f, loc),
        None => (entry, ""),
    }
}

/// The package a file belongs to: the directory after its last `node_modules/`.
fn package_of(location: &str) -> Option<String> {
    let (_, rest) = location.rsplit_once("node_modules/")?;
    let mut parts = rest.split('/');
    let first = parts.next().filter(|p| !p.is_empty())?;
    if first.starts_with('@') {
        Some(format!("{first}/{}", parts.next()?))
    } else {
        Some(first.to_string())
    }
}

/// Where the heaviest stack `path` (outermost first, `function (file:line)`) under the app
/// frame at `site` went: `None` unless it ended in a package.
pub fn into_package(site: &str, path: &[String]) -> Option<IntoPackage> {
    let at = path.iter().rposition(|e| frame(e).1 == site)?;
    let below = &path[at + 1..];
    let package = below.iter().rev().find_map(|e| package_of(frame(e).1))?;
    let called = below
        .first()
        .filter(|e| package_of(frame(e).1).as_deref() == Some(package.as_str()))
        .map(|e| {
            frame(e)
                .0
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|f| !f.is_empty() && !f.starts_with('('));
    Some(IntoPackage { package, called })
}

/// The names that stand for `package` in the app: what it imported from it, and module-scope
/// variables made with those (`const hits = new client.Counter(` → `hits`).
fn names_of(package: &str, files: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = files
        .iter()
        .flat_map(|(_, t)| bindings(t))
        .filter(|(_, p)| p == package)
        .map(|(n, _)| n)
        .collect();
    for (_, text) in files {
        for line in text.lines().filter(|l| !l.starts_with([' ', '\t'])) {
            let code = code_only(line);
            let Some(rest) = ["const ", "let ", "var "]
                .iter()
                .find_map(|k| code.strip_prefix(k))
            else {
                continue;
            };
            let Some((var, value)) = rest.split_once('=') else {
                continue;
            };
            let var = var.trim();
            let value = value.trim_start();
            let value = value.strip_prefix("new ").unwrap_or(value).trim_start();
            let made = names.iter().any(|n| {
                value
                    .strip_prefix(n.as_str())
                    .is_some_and(|r| r.starts_with(['(', '.']))
            });
            let ident = !var.is_empty()
                && var
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
            if made && ident && !value.starts_with("require(") && !names.iter().any(|n| n == var) {
                names.push(var.to_string());
            }
        }
    }
    names
}

/// The function or method a line calls on one of `names` (`hits.inc(` → `inc`, `session(` →
/// `session`), if it calls one.
fn call_on(code: &str, names: &[String]) -> Option<String> {
    for n in names {
        for (k, _) in code.match_indices(n.as_str()) {
            let before = code[..k].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
                continue;
            }
            let after = &code[k + n.len()..];
            if after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            if after.trim_start().starts_with('(') {
                return Some(n.clone());
            }
            // `client.register.metrics(`: the last member before the call.
            let chain: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.' | ' '))
                .collect();
            if chain.starts_with('.') && after[chain.len()..].starts_with('(') {
                return chain.trim().rsplit('.').next().map(str::to_string);
            }
        }
    }
    None
}

fn source_line(file: &str, i: usize, line: &str) -> SourceLine {
    SourceLine {
        kind: "grows".into(),
        location: format!("{file}:{}", i + 1),
        code: line.trim().chars().take(160).collect(),
    }
}

/// The app's line that called into the package `into` from the function starting at 0-based
/// line `start` of `file`: its call of the function the stack went into first, then its
/// first call into the package; failing both, the first call into the package anywhere in
/// the app's `files`.
pub fn line(
    into: &IntoPackage,
    file: &str,
    start: usize,
    files: &[(String, String)],
) -> Option<SourceLine> {
    let names = names_of(&into.package, files);
    if names.is_empty() {
        return None;
    }
    let text = files
        .iter()
        .find(|(n, _)| n == file)
        .map(|(_, t)| t.as_str());
    if let Some(text) = text {
        let lines: Vec<&str> = text.lines().collect();
        if let Some((from, _, to)) = body(&lines, start) {
            let calls: Vec<(usize, String)> = (start.min(from)..=to)
                .filter_map(|i| call_on(&code_only(lines[i]), &names).map(|c| (i, c)))
                .collect();
            let best = calls
                .iter()
                .find(|(_, c)| into.called.as_deref() == Some(c.as_str()))
                .or_else(|| {
                    calls.iter().find(|(_, c)| {
                        into.called
                            .as_deref()
                            .is_some_and(|f| f.starts_with(c.as_str()))
                    })
                })
                .or(calls.first());
            if let Some((i, _)) = best {
                return Some(source_line(file, *i, lines[*i]));
            }
        }
    }
    files.iter().find_map(|(name, text)| {
        text.lines().enumerate().find_map(|(i, l)| {
            let code = code_only(l);
            let import = code.contains("require(") || code.trim_start().starts_with("import ");
            (!import && call_on(&code, &names).is_some()).then(|| source_line(name, i, l))
        })
    })
}

/// The app's line that called into a package, found from one of the first app sites.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageLine {
    /// Index of the site among the app sites searched.
    pub site: usize,
    pub package: String,
    pub line: SourceLine,
}

/// The first of the app `sites` (`(file:line, heaviest stack)`, heaviest first) whose heaviest
/// stack ended in a package, with the app's line that called into it.
pub fn first(sites: &[(String, Vec<String>)], files: &[(String, String)]) -> Option<PackageLine> {
    sites.iter().enumerate().find_map(|(i, (loc, path))| {
        let into = into_package(loc, path)?;
        let (file, n) = loc.rsplit_once(':')?;
        let start = n.parse::<usize>().ok()?.checked_sub(1)?;
        Some(PackageLine {
            site: i,
            line: line(&into, file, start, files)?,
            package: into.package,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_heaviest_stack_names_the_package_and_the_function_called() {
        let p = path(&[
            "emit (node:events:517)",
            "handle (app.js:16)",
            "createLogger (node_modules/winston/lib/winston/create-logger.js:30)",
            "DerivedLogger (node_modules/winston/lib/winston/create-logger.js:43)",
        ]);
        let got = into_package("app.js:16", &p).unwrap();
        assert_eq!(got.package, "winston");
        assert_eq!(got.called.as_deref(), Some("createLogger"));
        // Through another package (express's `res.send`) into a store: the deepest package
        // allocated, and the app did not call it directly.
        let p = path(&[
            "handle (app.js:15)",
            "send (node_modules/express/lib/response.js:111)",
            "set (node_modules/@acme/session/memory.js:119)",
        ]);
        let got = into_package("app.js:15", &p).unwrap();
        assert_eq!(got.package, "@acme/session");
        assert_eq!(got.called, None);
        // The app's own allocation, or Node's: no package.
        let p = path(&["handle (app.js:15)", "Buffer (node:buffer:10)"]);
        assert_eq!(into_package("app.js:15", &p), None);
        assert_eq!(into_package("other.js:1", &p), None);
    }

    const PROM: &str = "const client = require('prom-client');\nconst hits = new client.Counter({ name: 'h' });\nconst lat = new client.Histogram({ name: 'l' });\nfunction handle(req, res) {\n  if (req.url === '/metrics') {\n    return client.register.metrics();\n  }\n  hits.inc({ path: req.url });\n  lat.observe({ path: req.url }, 1);\n}\n";

    #[test]
    fn the_call_of_the_function_the_stack_went_into_is_the_line() {
        let files = vec![("app.js".to_string(), PROM.to_string())];
        let into = |called: Option<&str>| IntoPackage {
            package: "prom-client".into(),
            called: called.map(str::to_string),
        };
        let l = line(&into(Some("observe")), "app.js", 3, &files).unwrap();
        assert_eq!(
            (l.location.as_str(), l.kind.as_str()),
            ("app.js:9", "grows")
        );
        assert_eq!(l.code, "lat.observe({ path: req.url }, 1);");
        // `inc` through a helper named after it.
        let l = line(&into(Some("incWithLabels")), "app.js", 3, &files).unwrap();
        assert_eq!(l.location, "app.js:8");
        // Nothing called by name: the function's first call into the package.
        let l = line(&into(None), "app.js", 3, &files).unwrap();
        assert_eq!(l.location, "app.js:6");
        // Another package: nothing.
        let other = IntoPackage {
            package: "winston".into(),
            called: None,
        };
        assert_eq!(line(&other, "app.js", 3, &files), None);
    }

    #[test]
    fn a_package_the_function_never_calls_is_found_where_the_app_sets_it_up() {
        let app = "const express = require('express');\nconst session = require('express-session');\nconst app = express();\napp.use(session({ secret: 'x' }));\napp.get('*', (req, res) => {\n  req.session.n = 1;\n  res.send('ok');\n});\n";
        let files = vec![("app.js".to_string(), app.to_string())];
        let into = IntoPackage {
            package: "express-session".into(),
            called: None,
        };
        let l = line(&into, "app.js", 4, &files).unwrap();
        assert_eq!(l.location, "app.js:4");
        // `app` was made by express, not by express-session.
        assert_eq!(names_of("express-session", &files), ["session"]);
        assert_eq!(names_of("express", &files), ["express", "app"]);
    }
}
