//! Positions in generated code mapped back to the original source through source maps.
//!
//! TypeScript run through `tsx`, a `tsc` build or any bundle runs code the user never wrote:
//! V8 reports `dist/app.js:41` (or, for `tsx`, a line of its in-memory transpiled output under
//! the `.ts` file's own name) while the fix goes into `src/quotes.ts:35`. A script says where
//! its map is in a trailing `//# sourceMappingURL=` comment: a `data:` URL carrying the map
//! inline (what `tsx` and `esbuild --sourcemap=inline` write) or a file beside the script
//! (`app.js.map`, what `tsc --sourceMap` and `esbuild --sourcemap` write).
//!
//! The mapping itself is pure ([`map_reference`], [`ScriptMap::parse`], [`ScriptMap::lookup`]);
//! [`SourceMaps`] is the edge that reads scripts and map files and caches one parsed map per
//! script. When the script on disk is not the code V8 ran (`tsx` transpiles in memory), the
//! map V8 itself saw can be handed in with [`SourceMaps::know`] (the inspector's
//! `Debugger.scriptParsed` carries it as `sourceMapURL`).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use sourcemap::DecodedMap;

/// A script's map file is not read beyond this size (a map is a few times its script).
const MAX_MAP_BYTES: u64 = 64 << 20;
/// Scripts are read to find their `sourceMappingURL` comment only up to this size.
const MAX_SCRIPT_BYTES: u64 = 64 << 20;

/// The URL of a script's source map: the last `//# sourceMappingURL=` (or the legacy `//@`)
/// comment, as the source map specification says. `None` when the script names no map.
pub fn map_reference(script: &str) -> Option<&str> {
    script.lines().rev().find_map(|line| {
        let line = line.trim();
        let url = line
            .strip_prefix("//# sourceMappingURL=")
            .or_else(|| line.strip_prefix("//@ sourceMappingURL="))?
            .trim();
        (!url.is_empty()).then_some(url)
    })
}

/// A path from a script URL as V8 names it: `file:///srv/app/x.js` → `/srv/app/x.js`
/// (percent-escapes decoded), a plain path unchanged. `None` for other schemes (`node:`,
/// `http:`, `data:`), which have no file.
pub fn url_to_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        // `file:///x` has an empty host; `file://localhost/x` names this machine too.
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        let path = path.split(['?', '#']).next().unwrap_or(path);
        return Some(PathBuf::from(percent_decode(path)));
    }
    if url.is_empty() || has_scheme(url) {
        return None;
    }
    Some(PathBuf::from(url))
}

/// `scheme:` in front, as in `node:fs`, `webpack://`, `data:` (a Windows drive letter is not
/// one: it is a single letter).
fn has_scheme(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a/b/../c/./d` → `a/c/d`, without touching the file system (the original sources need not
/// exist where the map says they were).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// Where an original position lies: the source file (resolved against the map's location)
/// and its 0-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// The original source as a path when it is one (`file://` URLs and paths relative to the
    /// map), else the source string as the map gives it (`webpack://app/src/x.ts`).
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

/// One script's parsed source map and the directory its relative sources resolve from.
pub struct ScriptMap {
    map: DecodedMap,
    dir: PathBuf,
}

impl ScriptMap {
    /// Parse the map `reference` names for the script at `script`: a `data:` URL is decoded
    /// here, any other reference is a path or `file://` URL relative to the script, whose
    /// bytes `read` supplies. `None` when there is no usable map.
    pub fn parse(
        reference: &str,
        script: &Path,
        read: impl FnOnce(&Path) -> Option<Vec<u8>>,
    ) -> Option<ScriptMap> {
        let script_dir = script.parent().unwrap_or(Path::new("")).to_path_buf();
        if reference.starts_with("data:") {
            let map = sourcemap::decode_data_url(reference).ok()?;
            return Some(ScriptMap {
                map,
                dir: script_dir,
            });
        }
        let path = if has_scheme(reference) {
            url_to_path(reference)?
        } else {
            script_dir.join(percent_decode(reference))
        };
        let path = normalize(&path);
        let bytes = read(&path)?;
        let map = sourcemap::decode_slice(&bytes).ok()?;
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        Some(ScriptMap { map, dir })
    }

    /// The original sources the map names, resolved like [`ScriptMap::lookup`]'s, each with
    /// its text when the map carries it (`sourcesContent`).
    pub fn sources(&self) -> Vec<(PathBuf, Option<&str>)> {
        let DecodedMap::Regular(sm) = &self.map else {
            return Vec::new();
        };
        (0..sm.get_source_count())
            .filter_map(|i| {
                let file = self.resolve(sm.get_source(i)?);
                Some((file, sm.get_source_contents(i)))
            })
            .collect()
    }

    fn resolve(&self, source: &str) -> PathBuf {
        match url_to_path(source) {
            Some(p) if p.is_absolute() => normalize(&p),
            Some(p) => normalize(&self.dir.join(p)),
            None => PathBuf::from(source),
        }
    }

    /// The original position of the generated 0-based `line` and `column`: the mapping at or
    /// before it on that line. `None` when the map has nothing for that line (generated
    /// helper code) or names no source.
    pub fn lookup(&self, line: u32, column: u32) -> Option<Original> {
        let token = self.map.lookup_token(line, column)?;
        if token.get_dst_line() != line {
            return None;
        }
        let file = self.resolve(token.get_source()?);
        Some(Original {
            file,
            line: token.get_src_line(),
            column: token.get_src_col(),
        })
    }
}

/// A mapped position ready to print: the original file relative to the base directory when it
/// lies below it, 0-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// The I/O edge: reads each script's map at most once.
#[derive(Default)]
pub struct SourceMaps {
    base: Option<PathBuf>,
    /// Map references Node told us about, by script URL (they win over the file on disk,
    /// which may not be the code V8 ran).
    known: HashMap<String, String>,
    cache: HashMap<String, Option<ScriptMap>>,
}

impl SourceMaps {
    /// Original files are shown relative to `base` when they lie below it.
    pub fn new(base: Option<&Path>) -> SourceMaps {
        SourceMaps {
            base: base.map(Path::to_path_buf),
            ..SourceMaps::default()
        }
    }

    /// The map reference (a `data:` URL or a path relative to the script) that V8 saw for the
    /// script at `url`, as the inspector's `Debugger.scriptParsed` reports it.
    pub fn know(&mut self, url: &str, map_url: &str) {
        if !map_url.is_empty() {
            self.known.insert(script_key(url), map_url.to_string());
        }
    }

    /// The original position of the 0-based `line`/`column` in the script V8 names `url`;
    /// `None` when the script has no map or the map has nothing there.
    pub fn map(&mut self, url: &str, line: u32, column: u32) -> Option<Mapped> {
        if !self.cache.contains_key(url) {
            let loaded = self.load(url);
            self.cache.insert(url.to_string(), loaded);
        }
        let orig = self.cache.get(url)?.as_ref()?.lookup(line, column)?;
        Some(Mapped {
            file: self.shown(&orig.file),
            line: orig.line,
            column: orig.column,
        })
    }

    /// The original sources of the script at `url` (a path or URL), with the text the map
    /// carries for each; `None` when the script has no map.
    pub fn sources(&mut self, url: &str) -> Option<Vec<(PathBuf, Option<String>)>> {
        if !self.cache.contains_key(url) {
            let loaded = self.load(url);
            self.cache.insert(url.to_string(), loaded);
        }
        let map = self.cache.get(url)?.as_ref()?;
        let list = map.sources().into_iter();
        Some(list.map(|(p, t)| (p, t.map(str::to_string))).collect())
    }

    /// `path` relative to the base directory when it lies below it.
    pub fn shown(&self, path: &Path) -> String {
        let rel = self.base.as_deref().and_then(|b| path.strip_prefix(b).ok());
        rel.unwrap_or(path).to_string_lossy().into_owned()
    }

    fn load(&self, url: &str) -> Option<ScriptMap> {
        let script = url_to_path(url)?;
        let script = match (&self.base, script.is_relative()) {
            (Some(b), true) => b.join(script),
            _ => script,
        };
        let read = |p: &Path| read_bounded(p, MAX_MAP_BYTES);
        if let Some(reference) = self.known.get(&script_key(url)) {
            return ScriptMap::parse(reference, &script, read);
        }
        let text = read_bounded(&script, MAX_SCRIPT_BYTES)?;
        let text = String::from_utf8_lossy(&text);
        let reference = map_reference(&text)?;
        ScriptMap::parse(reference, &script, read)
    }
}

/// One name per script: the debugger calls a CommonJS module `file:///srv/a.js` where the
/// sampling profiler says `/srv/a.js`.
fn script_key(url: &str) -> String {
    match url_to_path(url) {
        Some(p) => p.to_string_lossy().into_owned(),
        None => url.to_string(),
    }
}

fn read_bounded(path: &Path, max: u64) -> Option<Vec<u8>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    std::fs::read(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `function f() {` on generated line 2 (0-based 1) from `src/a.ts` line 5 (0-based 4),
    /// and a second mapping at column 9 from line 5, column 16.
    const MAP: &str =
        r#"{"version":3,"sources":["../src/a.ts"],"names":[],"mappings":";AAIA,SAAgB"}"#;

    fn data_url(map: &str) -> String {
        use std::fmt::Write;
        // base64 by hand: the crate decodes, the test encodes.
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in map.as_bytes().chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                if i <= c.len() {
                    out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        let mut s = String::new();
        write!(s, "data:application/json;charset=utf-8;base64,{out}").unwrap();
        s
    }

    #[test]
    fn the_last_reference_comment_wins() {
        let js = "//# sourceMappingURL=old.map\nx();\n//# sourceMappingURL=app.js.map\n";
        assert_eq!(map_reference(js), Some("app.js.map"));
        assert_eq!(map_reference("//@ sourceMappingURL=a.map"), Some("a.map"));
        assert_eq!(map_reference("x(); // no map\n"), None);
        assert_eq!(map_reference("//# sourceMappingURL=\n"), None);
    }

    #[test]
    fn an_inline_map_maps_to_the_original_line() {
        let js = format!(
            "'use strict';\nfunction f() {{}}\n//# sourceMappingURL={}\n",
            data_url(MAP)
        );
        let r = map_reference(&js).unwrap();
        let m = ScriptMap::parse(r, Path::new("/srv/app/dist/a.js"), |_| {
            panic!("an inline map reads nothing")
        })
        .unwrap();
        let o = m.lookup(1, 0).unwrap();
        assert_eq!(o.file, Path::new("/srv/app/src/a.ts"));
        assert_eq!((o.line, o.column), (4, 0));
        // Column 12 lies after the second mapping (column 9 → source column 16).
        assert_eq!(m.lookup(1, 12).unwrap().column, 16);
        // Line 0 has no mapping: generated code of the tool's own, not the user's.
        assert_eq!(m.lookup(0, 5), None);
    }

    #[test]
    fn a_map_file_beside_the_script_is_read_once_and_sources_are_relative_to_the_base() {
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("dist");
        std::fs::create_dir(&dist).unwrap();
        std::fs::write(
            dist.join("a.js"),
            "'use strict';\nfunction f() {}\n//# sourceMappingURL=a.js.map\n",
        )
        .unwrap();
        std::fs::write(dist.join("a.js.map"), MAP).unwrap();
        let mut maps = SourceMaps::new(Some(dir.path()));
        let url = format!("file://{}", dist.join("a.js").display());
        let m = maps.map(&url, 1, 0).unwrap();
        assert_eq!(
            m,
            Mapped {
                file: "src/a.ts".into(),
                line: 4,
                column: 0
            }
        );
        // Cached: the map file can go, the answer stays.
        std::fs::remove_file(dist.join("a.js.map")).unwrap();
        assert_eq!(maps.map(&url, 1, 0).unwrap().line, 4);
        // A plain path names the same script as the file:// URL (a separate cache entry).
        std::fs::write(dist.join("a.js.map"), MAP).unwrap();
        let plain = dist.join("a.js").display().to_string();
        assert_eq!(maps.map(&plain, 1, 0).unwrap().file, "src/a.ts");
        let sources = maps.sources(&plain).unwrap();
        assert_eq!(sources, [(dir.path().join("src/a.ts"), None)]);
    }

    #[test]
    fn no_map_leaves_the_position_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain.js"), "function f() {}\n").unwrap();
        let mut maps = SourceMaps::new(Some(dir.path()));
        let url = dir.path().join("plain.js").display().to_string();
        assert_eq!(maps.map(&url, 0, 0), None);
        // A map reference to a missing or broken file is no map either.
        std::fs::write(
            dir.path().join("broken.js"),
            "f()\n//# sourceMappingURL=broken.js.map\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.js.map"), "{not json").unwrap();
        let url = dir.path().join("broken.js").display().to_string();
        assert_eq!(maps.map(&url, 0, 0), None);
        assert_eq!(maps.map("node:internal/x", 0, 0), None);
        assert_eq!(maps.map("", 0, 0), None);
    }

    #[test]
    fn a_map_node_saw_wins_over_the_file_on_disk() {
        // tsx: the file on disk is the TypeScript itself (no map comment); V8 ran tsx's output,
        // whose inline map the debugger reported under the file:// URL, while the profile
        // names the script by its plain path.
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("a.ts"), "export function f(): void {}\n").unwrap();
        let map = MAP.replace("../src/a.ts", &src.join("a.ts").display().to_string());
        let mut maps = SourceMaps::new(Some(dir.path()));
        let plain = src.join("a.ts").display().to_string();
        assert_eq!(
            maps.map(&plain, 1, 0),
            None,
            "nothing on disk says where a map is"
        );
        let mut maps = SourceMaps::new(Some(dir.path()));
        maps.know(&format!("file://{plain}"), &data_url(&map));
        let m = maps.map(&plain, 1, 0).unwrap();
        assert_eq!((m.file.as_str(), m.line), ("src/a.ts", 4));
    }

    #[test]
    fn a_source_outside_the_base_stays_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        std::fs::create_dir_all(app.join("dist")).unwrap();
        let map = MAP.replace("../src/a.ts", "../../shared/q.ts");
        std::fs::write(
            app.join("dist/a.js"),
            "'use strict';\nfunction f() {}\n//# sourceMappingURL=a.js.map\n",
        )
        .unwrap();
        std::fs::write(app.join("dist/a.js.map"), map).unwrap();
        let mut maps = SourceMaps::new(Some(&app));
        let m = maps
            .map(&app.join("dist/a.js").display().to_string(), 1, 0)
            .unwrap();
        assert_eq!(m.file, dir.path().join("shared/q.ts").display().to_string());
    }

    #[test]
    fn file_urls_become_paths() {
        assert_eq!(
            url_to_path("file:///srv/my%20app/x.js"),
            Some(PathBuf::from("/srv/my app/x.js"))
        );
        assert_eq!(
            url_to_path("file:///srv/app/x.ts?tsx-namespace=1"),
            Some(PathBuf::from("/srv/app/x.ts"))
        );
        assert_eq!(url_to_path("/srv/x.js"), Some(PathBuf::from("/srv/x.js")));
        assert_eq!(url_to_path("node:fs"), None);
        // A map whose sources are file:// URLs.
        let map = MAP.replace("../src/a.ts", "file:///work/src/a.ts");
        let m = ScriptMap::parse("a.js.map", Path::new("/elsewhere/a.js"), |p| {
            assert_eq!(p, Path::new("/elsewhere/a.js.map"));
            Some(map.into_bytes())
        })
        .unwrap();
        assert_eq!(m.lookup(1, 0).unwrap().file, Path::new("/work/src/a.ts"));
        // The map reference itself may be a file:// URL.
        let m = ScriptMap::parse("file:///maps/a.js.map", Path::new("/x/a.js"), |p| {
            assert_eq!(p, Path::new("/maps/a.js.map"));
            Some(MAP.as_bytes().to_vec())
        })
        .unwrap();
        assert_eq!(m.lookup(1, 0).unwrap().file, Path::new("/src/a.ts"));
    }

    #[test]
    fn paths_normalize_lexically() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("../x")), Path::new("../x"));
    }
}
