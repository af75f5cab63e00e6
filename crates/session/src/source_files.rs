//! Which files to search for a heap suspect's holder (see [`crate::source_lines`]): the
//! application's own scripts, read as their original sources when they are generated code
//! with a source map.

use leakhound_profile::SourceMaps;
use std::path::{Path, PathBuf};

/// At most this many files are read, each at most [`MAX_FILE_BYTES`].
const MAX_FILES: usize = 50;
const MAX_FILE_BYTES: u64 = 2 << 20;

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
    // The app's own modules those files load (`require('./price-book')`, `import … from
    // './store.mjs'`): a class whose method grows a field may live in one the sampler never
    // named.
    let mut i = 0;
    while i < out.len() && out.len() < MAX_FILES {
        let text = std::fs::read_to_string(&out[i]).unwrap_or_default();
        let dir = out[i].parent().map(Path::to_path_buf).unwrap_or_default();
        for spec in local_imports(&text) {
            let Some(p) = resolve(&dir, spec) else {
                continue;
            };
            if !out.contains(&p) && out.len() < MAX_FILES {
                out.push(p);
            }
        }
        i += 1;
    }
    out
}

/// The relative specifiers (`./x`, `../y.mjs`) a file passes to `require(` or `from`/`import`.
fn local_imports(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for key in ["require(", "from ", "import(", "import "] {
        for (i, _) in text.match_indices(key) {
            let rest = text[i + key.len()..].trim_start();
            let Some(q) = rest
                .chars()
                .next()
                .filter(|c| matches!(c, '\'' | '"' | '`'))
            else {
                continue;
            };
            let Some(end) = rest[1..].find(q) else {
                continue;
            };
            let spec = &rest[1..1 + end];
            if spec.starts_with("./") || spec.starts_with("../") {
                out.push(spec);
            }
        }
    }
    out
}

/// The file Node loads for a relative specifier, trying the usual extensions and `index.js`.
fn resolve(dir: &Path, spec: &str) -> Option<PathBuf> {
    // `a/./b` and `a/x/../b` folded, so one file has one name.
    let mut p = PathBuf::new();
    for c in dir.join(spec).components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                p.pop();
            }
            c => p.push(c),
        }
    }
    let tries = [
        p.clone(),
        p.with_extension("js"),
        PathBuf::from(format!("{}.js", p.display())),
        PathBuf::from(format!("{}.mjs", p.display())),
        PathBuf::from(format!("{}.cjs", p.display())),
        PathBuf::from(format!("{}.ts", p.display())),
        p.join("index.js"),
    ];
    tries
        .into_iter()
        .find(|t| t.is_file() && !t.to_string_lossy().contains("node_modules"))
}

/// Read `files` (skipping big or unreadable ones), named relative to `base` when inside it.
/// A generated file with a source map (`dist/app.js` and its `app.js.map`) is replaced by the
/// original sources its map names (read from disk, else the text the map carries), without
/// `node_modules`: the lines to change are in those.
pub fn read(
    files: &[PathBuf],
    base: Option<&Path>,
    maps: &mut SourceMaps,
) -> Vec<(String, String)> {
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    let mut push = |p: PathBuf, text: Option<String>| {
        if out.iter().any(|(q, _)| *q == p) || out.len() == MAX_FILES {
            return;
        }
        let text = match text {
            Some(t) => Some(t),
            None if std::fs::metadata(&p).is_ok_and(|m| m.len() <= MAX_FILE_BYTES) => {
                std::fs::read_to_string(&p).ok()
            }
            None => None,
        };
        if let Some(t) = text {
            out.push((p, t));
        }
    };
    for p in files {
        match maps.sources(&p.to_string_lossy()) {
            Some(sources) => {
                for (src, carried) in sources {
                    if src.to_string_lossy().contains("node_modules") {
                        continue;
                    }
                    let text = if src.is_file() { None } else { carried };
                    push(src, text);
                }
            }
            None => push(p.clone(), None),
        }
    }
    out.into_iter()
        .map(|(p, t)| {
            let name = base.and_then(|b| p.strip_prefix(b).ok()).unwrap_or(&p);
            (name.display().to_string(), t)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_file_is_read_as_its_original_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist")).unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("dist/app.js"),
            "var cache = new Map();\ncache.set(1, 2);\n//# sourceMappingURL=app.js.map\n",
        )
        .unwrap();
        // Two sources: one on disk, one only in the map's sourcesContent; node_modules is
        // left out.
        std::fs::write(
            dir.path().join("dist/app.js.map"),
            r#"{"version":3,"sources":["../src/app.ts","../src/gone.ts","../node_modules/x/i.js"],"sourcesContent":[null,"cache.set(3, 4);\n","x"],"names":[],"mappings":"AAAA"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("src/app.ts"),
            "// the cache\nconst cache = new Map<number, number>();\n\ncache.set(1, 2);\n",
        )
        .unwrap();
        let files = vec![dir.path().join("dist/app.js")];
        let mut maps = SourceMaps::new(Some(dir.path()));
        let texts = read(&files, Some(dir.path()), &mut maps);
        let names: Vec<&str> = texts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["src/app.ts", "src/gone.ts"]);
        let lines = crate::source_lines::find("cache", &texts);
        let got: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.kind.as_str(), l.location.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("grows", "src/app.ts:4"),
                ("grows", "src/gone.ts:1"),
                ("declared", "src/app.ts:2")
            ]
        );
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
        // The modules the app loads itself come along; packages do not.
        std::fs::create_dir_all(dir.path().join("store")).unwrap();
        std::fs::write(
            dir.path().join("server.js"),
            "const { Book } = require('./book');\nimport s from './store';\nconst x = require('express');\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("book.js"), "class Book {}").unwrap();
        std::fs::write(dir.path().join("store/index.js"), "import '../lib.js';").unwrap();
        let files = app_files(&cmd, std::iter::empty(), Some(dir.path()));
        assert_eq!(
            files,
            [
                dir.path().join("server.js"),
                dir.path().join("book.js"),
                dir.path().join("store/index.js"),
                dir.path().join("lib.js")
            ]
        );
        let texts = read(
            &files,
            Some(dir.path()),
            &mut SourceMaps::new(Some(dir.path())),
        );
        assert_eq!(texts[0].0, "server.js");
    }
}
