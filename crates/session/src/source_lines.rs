//! Point a heap suspect at the code. The snapshots name the variable that holds the memory
//! (`responseCache (Map)`); the sampling profiler names functions, not lines. The app's own
//! files are few and small, so the lines that declare the holder and the lines that grow it
//! (`responseCache.set(...)`) are found by reading them: the line a user has to change.

use leakhound_report::run_schema::SourceLine;
use std::path::{Path, PathBuf};

/// At most this many files are read, each at most [`MAX_FILE_BYTES`].
const MAX_FILES: usize = 50;
const MAX_FILE_BYTES: u64 = 2 << 20;
/// Lines reported per suspect: up to three that grow the holder, one that declares it.
const MAX_GROWS: usize = 3;
const MAX_CODE_CHARS: usize = 160;
/// Calls that add to a collection or an emitter.
const GROWING: &[&str] = &[
    "set",
    "push",
    "add",
    "unshift",
    "splice",
    "append",
    "on",
    "once",
    "addListener",
    "prependListener",
];

/// The variable or property name of a holder as the leaks report prints it
/// (`responseCache (Map)` → `responseCache`); `None` for anything not an identifier.
pub fn holder_identifier(holder: &str) -> Option<&str> {
    let name = holder.split(" (").next()?.trim();
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok_first = first.is_alphabetic() || first == '_' || first == '$';
    (ok_first && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')).then_some(name)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// How `line` names `ident`, if it does: `grows` (`ident.set(`, `ident.push(`,
/// `ident[k] = v` ...) or `declared` (`const ident`, `ident = ...`). Comments do not count.
pub fn classify(line: &str, ident: &str) -> Option<&'static str> {
    let t = line.trim_start();
    if t.starts_with("//") || t.starts_with("/*") || t.starts_with('*') || ident.is_empty() {
        return None;
    }
    let bytes = line.as_bytes();
    let mut found = None;
    let mut from = 0;
    while let Some(i) = line[from..].find(ident) {
        let at = from + i;
        let end = at + ident.len();
        from = end;
        if (at > 0 && is_word(bytes[at - 1])) || (end < bytes.len() && is_word(bytes[end])) {
            continue;
        }
        let rest = line[end..].trim_start();
        if let Some(call) = rest.strip_prefix('.') {
            let call = call.trim_start();
            let method_len = call.bytes().take_while(|&b| is_word(b)).count();
            let (method, after) = call.split_at(method_len);
            if after.trim_start().starts_with('(') && GROWING.contains(&method) {
                return Some("grows");
            }
        }
        if rest.starts_with('[') {
            if let Some(close) = rest.find(']') {
                let after = rest[close + 1..].trim_start();
                if after.starts_with('=') && !after.starts_with("==") {
                    return Some("grows");
                }
            }
        }
        let head = line[..at].trim_end();
        let declares = ["const", "let", "var"].iter().any(|k| {
            head.strip_suffix(k)
                .is_some_and(|h| h.as_bytes().last().is_none_or(|&b| !is_word(b)))
        });
        let assigns = rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>");
        if declares || assigns {
            found = Some("declared");
        }
    }
    found
}

/// The lines of `files` (display name, text) that grow or declare `ident`.
pub fn find(ident: &str, files: &[(String, String)]) -> Vec<SourceLine> {
    let mut grows = Vec::new();
    let mut declared = None;
    for (name, text) in files {
        for (i, line) in text.lines().enumerate() {
            let Some(kind) = classify(line, ident) else {
                continue;
            };
            let entry = || SourceLine {
                kind: kind.to_string(),
                location: format!("{name}:{}", i + 1),
                code: line.trim().chars().take(MAX_CODE_CHARS).collect(),
            };
            if kind == "grows" && grows.len() < MAX_GROWS {
                grows.push(entry());
            } else if kind == "declared" && declared.is_none() {
                declared = Some(entry());
            }
        }
    }
    grows.extend(declared);
    grows
}

/// The application's own source files: the scripts on the target's command line and the
/// files of the allocation sites (`file:line`), without Node's internals or `node_modules`.
pub fn app_files<'a>(
    command: &[String],
    alloc_locations: impl Iterator<Item = &'a str>,
    base: Option<&Path>,
) -> Vec<PathBuf> {
    let scripts = command.iter().skip(1).map(String::as_str).filter(|a| {
        [".js", ".mjs", ".cjs", ".ts", ".mts", ".cts"]
            .iter()
            .any(|e| a.ends_with(e))
    });
    let sites = alloc_locations.map(|l| match l.rsplit_once(':') {
        Some((f, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => f,
        _ => l,
    });
    let mut out: Vec<PathBuf> = Vec::new();
    for f in scripts.chain(sites) {
        if f.is_empty() || f.starts_with("node:") || f.contains("node_modules") {
            continue;
        }
        let p = Path::new(f.strip_prefix("file://").unwrap_or(f));
        let p = match base {
            Some(b) if p.is_relative() => b.join(p),
            _ => p.to_path_buf(),
        };
        if !out.contains(&p) && p.is_file() {
            out.push(p);
        }
        if out.len() == MAX_FILES {
            break;
        }
    }
    out
}

/// Read `files` (skipping big or unreadable ones), named relative to `base` when inside it.
pub fn read(files: &[PathBuf], base: Option<&Path>) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= MAX_FILE_BYTES))
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            let name = base
                .and_then(|b| p.strip_prefix(b).ok())
                .unwrap_or(p)
                .display()
                .to_string();
            Some((name, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_names_that_can_be_searched() {
        assert_eq!(
            holder_identifier("responseCache (Map)"),
            Some("responseCache")
        );
        assert_eq!(holder_identifier("_events (Object)"), Some("_events"));
        assert_eq!(holder_identifier("[12] (Order)"), None);
        assert_eq!(holder_identifier("a b (Map)"), None);
        assert_eq!(holder_identifier(""), None);
    }

    #[test]
    fn lines_are_classified() {
        let id = "responseCache";
        assert_eq!(
            classify("const responseCache = new Map();", id),
            Some("declared")
        );
        assert_eq!(
            classify("  this.responseCache = new Map()", id),
            Some("declared")
        );
        assert_eq!(
            classify("  responseCache.set(key, value);", id),
            Some("grows")
        );
        assert_eq!(classify("  responseCache . push (x)", id), Some("grows"));
        assert_eq!(classify("responseCache[key] = value;", id), Some("grows"));
        assert_eq!(classify("if (responseCache[key] == null) {}", id), None);
        assert_eq!(classify("responseCache.get(key)", id), None);
        assert_eq!(
            classify("if (responseCache.size > 10) responseCache.clear()", id),
            None
        );
        assert_eq!(classify("// responseCache.set(k, v) was here", id), None);
        assert_eq!(classify("myresponseCache.set(k, v)", id), None);
        assert_eq!(classify("responseCacheSize = 3", id), None);
        assert_eq!(classify("const x = responseCache", id), None);
        assert_eq!(
            classify("emitter.on('x', f); listeners.push(f)", "listeners"),
            Some("grows")
        );
    }

    #[test]
    fn grows_come_first_then_one_declaration() {
        let files = vec![(
            "app.js".to_string(),
            "const cache = new Map();\nfunction f(k) {\n  cache.set(k, 1);\n}\ncache.set('a', 2);\ncache.set('b', 3);\ncache.set('c', 4);\n".to_string(),
        )];
        let lines = find("cache", &files);
        let got: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.kind.as_str(), l.location.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("grows", "app.js:3"),
                ("grows", "app.js:5"),
                ("grows", "app.js:6"),
                ("declared", "app.js:1")
            ]
        );
        assert_eq!(lines[0].code, "cache.set(k, 1);");
    }

    #[test]
    fn app_files_skip_node_internals_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.js"), "x").unwrap();
        std::fs::write(dir.path().join("lib.js"), "y").unwrap();
        let cmd = vec!["node".to_string(), "server.js".to_string()];
        let sites = [
            "lib.js:3",
            "node:internal/streams/writable:698",
            "gone.js:1",
            "server.js:9",
        ];
        let files = app_files(&cmd, sites.into_iter(), Some(dir.path()));
        assert_eq!(
            files,
            [dir.path().join("server.js"), dir.path().join("lib.js")]
        );
        let texts = read(&files, Some(dir.path()));
        assert_eq!(texts[0].0, "server.js");
    }
}
