//! Point a heap suspect at the code. The snapshots name the variable that holds the memory
//! (`responseCache (Map)`); the sampling profiler names functions, not lines. The app's own
//! files are few and small, so the lines that declare the holder and the lines that grow it
//! (`responseCache.set(...)`) are found by reading them: the line a user has to change.

use leakhound_report::run_schema::SourceLine;

/// Lines reported per suspect: up to three that grow the holder, one that declares it.
const MAX_GROWS: usize = 3;
const MAX_CODE_CHARS: usize = 160;
/// Calls that add to a collection or an emitter, or grow a package's object (a DataLoader's
/// `.load(`/`.prime(` caches, an app's or a client's `.use(` stack).
const GROWING: &[&str] = &[
    "load",
    "loadMany",
    "prime",
    "use",
    "addEventListener",
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
    "then",
];
/// Reads of one entry of a collection: `ident.get(k).push(v)` grows the entry's value.
const ENTRY: &[&str] = &["get", "at", "find"];

/// The variable or property name of a holder as the leaks report prints it
/// (`responseCache (Map)` → `responseCache`); `None` for anything not an identifier.
pub fn holder_identifier(holder: &str) -> Option<&str> {
    let name = holder.split(" (").next()?.trim();
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok_first = first.is_alphabetic() || first == '_' || first == '$';
    (ok_first && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')).then_some(name)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || c == '\u{200c}' || c == '\u{200d}'
}

/// `line` with the insides of string literals and comments blanked (one space per char), so
/// `'cache.push('` or `// cache.set(k)` do not count. Template literals are blanked whole.
pub(crate) fn code_only(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(' ');
                if c == '\\' {
                    if chars.next().is_some() {
                        out.push(' ');
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '/' && matches!(chars.peek(), Some('/') | Some('*')) => break,
            None => {
                if matches!(c, '\'' | '"' | '`') {
                    quote = Some(c);
                    out.push(' ');
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// What a line does with the identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Use {
    /// `ident = ...`: a (re)assignment, a weaker hint of where it lives.
    Assigns,
    /// `const|let|var ident`.
    Declares,
    /// `ident.set(`, `ident.push(`, `ident[k] = v`, `ident.on(` ...
    Grows,
}

/// How `line` names `ident` as a whole word, if it does. Comments and strings do not count.
pub fn classify(line: &str, ident: &str) -> Option<Use> {
    if ident.is_empty() {
        return None;
    }
    let code = code_only(line);
    let mut found = None;
    // `fastify.decorate('store', new Map())`: the name is a string only where it is defined.
    let defines = [
        "decorate",
        "decorateRequest",
        "decorateReply",
        "defineProperty",
    ]
    .iter()
    .any(|f| code.contains(&format!("{f}(")));
    if defines
        && ['\'', '"', '`']
            .iter()
            .any(|q| line.contains(&format!("{q}{ident}{q}")))
    {
        found = Some(Use::Assigns);
    }
    let mut from = 0;
    while let Some(i) = code[from..].find(ident) {
        let at = from + i;
        let end = at + ident.len();
        from = end;
        let before = code[..at].chars().next_back();
        let after = code[end..].chars().next();
        if before.is_some_and(is_ident_char) || after.is_some_and(is_ident_char) {
            continue;
        }
        let rest = code[end..].trim_start();
        // `Object.assign(ident, ...)` copies into it.
        if code[..at].trim_end().ends_with("Object.assign(") {
            return Some(Use::Grows);
        }
        if let Some(call) = rest.strip_prefix("?.").or_else(|| rest.strip_prefix('.')) {
            let call = call.trim_start();
            let method_len = call.bytes().take_while(|&b| is_word(b)).count();
            let (method, after) = call.split_at(method_len);
            if after.trim_start().starts_with('(') && GROWING.contains(&method) {
                return Some(Use::Grows);
            }
            if ENTRY.contains(&method) && grows_entry(after.trim_start()) {
                return Some(Use::Grows);
            }
        }
        if let Some(inner) = rest.strip_prefix('[') {
            // The matching `]`, then `=` (not `==`).
            let mut depth = 1usize;
            let close = inner.char_indices().find_map(|(k, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(k)
            });
            if let Some(k) = close {
                let after = inner[k + 1..].trim_start();
                if after.starts_with('=') && !after.starts_with("==") && !after.starts_with("=>") {
                    return Some(Use::Grows);
                }
            }
        }
        let head = code[..at].trim_end();
        let declares = ["const", "let", "var"].iter().any(|k| {
            head.strip_suffix(k)
                .is_some_and(|h| !h.chars().next_back().is_some_and(is_ident_char))
        });
        // `log += text`: a string (or array) that only gets longer; a counter does not grow.
        if let Some(rhs) = rest.strip_prefix("+=") {
            let rhs = rhs.trim().trim_end_matches(';').trim();
            // (An empty right side was a string literal, blanked.)
            if rhs.parse::<f64>().is_err() {
                return Some(Use::Grows);
            }
        }
        let assigns = rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>");
        let u = if declares {
            Some(Use::Declares)
        } else if assigns {
            Some(Use::Assigns)
        } else {
            None
        };
        found = found.max(u);
    }
    found
}

/// Whether `call` (`(user).push(x)`) is an argument list followed by a growing call: an
/// entry's value grown in place.
fn grows_entry(call: &str) -> bool {
    let Some(inner) = call.strip_prefix('(') else {
        return false;
    };
    let mut depth = 1usize;
    let Some(close) = inner.char_indices().find_map(|(k, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(k)
    }) else {
        return false;
    };
    let rest = inner[close + 1..].trim_start();
    let Some(rest) = rest.strip_prefix("?.").or_else(|| rest.strip_prefix('.')) else {
        return false;
    };
    let len = rest.bytes().take_while(|&b| is_word(b)).count();
    GROWING.contains(&&rest[..len]) && rest[len..].trim_start().starts_with('(')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The lines of `files` (display name, text) that grow `ident` (up to three, in file order),
/// then the one that declares it: a `const`/`let`/`var` before a plain assignment, and one in
/// a file that also grows it before one elsewhere.
pub fn find(ident: &str, files: &[(String, String)]) -> Vec<SourceLine> {
    let line_of = |kind: &str, name: &str, i: usize, line: &str| SourceLine {
        kind: kind.to_string(),
        location: format!("{name}:{}", i + 1),
        code: line.trim().chars().take(MAX_CODE_CHARS).collect(),
    };
    let mut grows = Vec::new();
    // Ranked by: the file also grows it, how strong the use is, earlier first.
    type Rank = (bool, Use, std::cmp::Reverse<usize>);
    let mut declared: Option<(Rank, SourceLine)> = None;
    let mut order = 0usize;
    for (name, text) in files {
        let mut uses: Vec<(usize, &str, Use)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if let Some(u) = classify(line, ident) {
                uses.push((i, line, u));
            }
        }
        let file_grows = uses.iter().any(|&(_, _, u)| u == Use::Grows);
        for (i, line, u) in uses {
            order += 1;
            if u == Use::Grows {
                if grows.len() < MAX_GROWS {
                    grows.push(line_of("grows", name, i, line));
                }
                continue;
            }
            let key = (file_grows, u, std::cmp::Reverse(order));
            if declared.as_ref().is_none_or(|(k, _)| key > *k) {
                declared = Some((key, line_of("declared", name, i, line)));
            }
        }
    }
    grows.extend(declared.map(|(_, l)| l));
    grows
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
        let c = |l: &str| classify(l, id);
        assert_eq!(c("const responseCache = new Map();"), Some(Use::Declares));
        assert_eq!(c("  this.responseCache = new Map()"), Some(Use::Assigns));
        assert_eq!(c("responseCache = null;"), Some(Use::Assigns));
        assert_eq!(c("  responseCache.set(key, value);"), Some(Use::Grows));
        assert_eq!(c("  responseCache . push (x)"), Some(Use::Grows));
        assert_eq!(c("  responseCache?.push(x)"), Some(Use::Grows));
        assert_eq!(c("responseCache[key] = value;"), Some(Use::Grows));
        assert_eq!(c("responseCache[a[b]] = value;"), Some(Use::Grows));
        assert_eq!(c("if (responseCache[key] == null) {}"), None);
        assert_eq!(c("responseCache.get(key)"), None);
        assert_eq!(
            c("if (responseCache.size > 10) responseCache.clear()"),
            None
        );
        assert_eq!(c("// responseCache.set(k, v) was here"), None);
        assert_eq!(c("f(); // responseCache.set(k, v) was here"), None);
        assert_eq!(c("log('responseCache.set(', x)"), None);
        assert_eq!(c("log(\"it's\", responseCache.add(x))"), Some(Use::Grows));
        assert_eq!(c("myresponseCache.set(k, v)"), None);
        assert_eq!(c("ñresponseCache.set(k, v)"), None);
        assert_eq!(c("const responseCacheé = 1"), None);
        assert_eq!(c("responseCacheSize = 3"), None);
        assert_eq!(c("const x = responseCache"), None);
        assert_eq!(c("Object.assign(responseCache, extra)"), Some(Use::Grows));
        assert_eq!(c("Object.assign({}, responseCache)"), None);
        assert_eq!(c("await responseCache.load(id)"), Some(Use::Grows));
        assert_eq!(c("responseCache.use((req) => req)"), Some(Use::Grows));
        assert_eq!(c("responseCache.loaded(id)"), None);
        assert_eq!(c("responseCache.get(user).push(x)"), Some(Use::Grows));
        assert_eq!(c("responseCache.get(f(a)).add(x)"), Some(Use::Grows));
        assert_eq!(c("responseCache.get(user).length"), None);
        assert_eq!(c("responseCache += `${a} b`;"), Some(Use::Grows));
        assert_eq!(c("responseCache += 1;"), None);
        assert_eq!(c("responseCache.then(() => x)"), Some(Use::Grows));
        assert_eq!(
            c("fastify.decorate('responseCache', new Map());"),
            Some(Use::Assigns)
        );
        assert_eq!(c("log('responseCache', 1);"), None);
        assert_eq!(
            classify("emitter.on('x', f); listeners.push(f)", "listeners"),
            Some(Use::Grows)
        );
    }

    #[test]
    fn a_declaration_beats_an_assignment_and_the_growing_file_wins() {
        let files = vec![
            ("other.js".to_string(), "let cache = null;\n".to_string()),
            (
                "app.js".to_string(),
                "cache = undefined;\nconst cache = new Map();\ncache.push(1);\n".to_string(),
            ),
        ];
        let lines = find("cache", &files);
        let got: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.kind.as_str(), l.location.as_str()))
            .collect();
        assert_eq!(got, [("grows", "app.js:3"), ("declared", "app.js:2")]);
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
}
