//! The line to change without heap snapshots. The sampling profiler names the function whose
//! allocations survived (its start line only); the statement that keeps them is in that
//! function or in an app function it calls: a `.push/.set/.add/.on/[k]=/+=` on a holder that
//! outlives the call (a module-scope variable, a `this.` field, a closure's variable), never on
//! a name declared inside the function. Reading the function's body (found by matching braces
//! from its start line) names that line.

use crate::source_lines::code_only;

/// Calls that grow their receiver when it is long-lived.
const GROWING: &[&str] = &[
    "push",
    "unshift",
    "set",
    "add",
    "on",
    "once",
    "addListener",
    "prependListener",
    "addEventListener",
    "then",
    "use",
    "load",
    "prime",
];
/// Lines read past a function's start to find its opening brace, and at most in a body.
const MAX_HEAD_LINES: usize = 4;
const MAX_BODY_LINES: usize = 400;

/// How long the grown holder lives, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Declared at the top level of a file (column 0): lives as long as the process.
    Module,
    /// A field of `this`: lives as long as its object, usually a long-lived service.
    Field,
    /// Declared in an enclosing function: lives as long as the closure.
    Closure,
}

/// A statement that grows a holder that outlives the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Growth {
    /// 0-based line in the file.
    pub line: usize,
    /// The holder as written (`sessions`, `this.history`, `activity`).
    pub holder: String,
    pub scope: Scope,
    /// Guarded by a `has` check on the same line (`if (!m.has(k)) m.set(k, [])`): it runs
    /// once per key, so it ranks after an unguarded growth of the same scope.
    pub once_per_key: bool,
}

/// The body of the function that starts on line `start`: its first line, the byte in that
/// line where the body begins (after its `{`, or after `=>` for an expression body), and its
/// last line (0-based, inclusive). Braces are matched from the first `{` within a few lines.
pub fn body(lines: &[&str], start: usize) -> Option<(usize, usize, usize)> {
    let mut depth = 0usize;
    let mut begin: Option<(usize, usize)> = None;
    for (i, line) in lines.iter().enumerate().skip(start).take(MAX_BODY_LINES) {
        let code = code_only(line);
        if begin.is_none() && i >= start + MAX_HEAD_LINES {
            return None;
        }
        if begin.is_none() {
            if let Some(a) = code.find("=>") {
                if !code[a..].contains('{') {
                    // `(c) => chunks.push(c)`: an expression body.
                    return Some((i, a + 2, i));
                }
            }
        }
        for (k, c) in code.char_indices() {
            match c {
                '{' => {
                    depth += 1;
                    begin.get_or_insert((i, k + 1));
                }
                '}' if begin.is_some() => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let (l, col) = begin?;
                        return Some((l, col, i));
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// The code of a body's lines (strings and comments blanked), the first line from its `{`.
fn body_codes(lines: &[&str], start: usize) -> Option<(usize, Vec<String>)> {
    let (from, col, to) = body(lines, start)?;
    let mut codes: Vec<String> = lines[from..=to].iter().map(|l| code_only(l)).collect();
    let first = &mut codes[0];
    *first = format!(
        "{}{}",
        " ".repeat(col.min(first.len())),
        &first[col.min(first.len())..]
    );
    Some((from, codes))
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Names a line declares: `const|let|var a`, `const { a, b }`, `function f(a, b)` and arrow
/// parameters. Over-approximate on purpose: a local taken for a holder is worse than a miss.
fn declared_names(code: &str, out: &mut Vec<String>) {
    let bytes = code.as_bytes();
    let words = |s: &str, out: &mut Vec<String>| {
        for w in s.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
            if !w.is_empty() && !w.as_bytes()[0].is_ascii_digit() && !out.iter().any(|o| o == w) {
                out.push(w.to_string());
            }
        }
    };
    for kw in ["const ", "let ", "var ", "for (const ", "for (let "] {
        let mut from = 0;
        while let Some(i) = code[from..].find(kw) {
            let at = from + i;
            from = at + kw.len();
            if at > 0 && is_ident(bytes[at - 1]) {
                continue;
            }
            // Up to `=` or ` of `/` in `: the names (a destructuring pattern gives several).
            let rest = &code[from..];
            let end = rest
                .find(['=', ';'])
                .into_iter()
                .chain(rest.find(" of "))
                .chain(rest.find(" in "))
                .min()
                .unwrap_or(rest.len());
            words(&rest[..end], out);
        }
    }
    // Parameters: the first `( ... )` of a `function` or before an `=>`.
    if code.contains("function") || code.contains("=>") {
        if let (Some(o), Some(c)) = (code.find('('), code.find(')')) {
            if o < c {
                words(&code[o + 1..c], out);
            }
        }
        if let Some(a) = code.find("=>") {
            // `s => ...`: a single bare parameter.
            let head = code[..a].trim_end();
            let p = head.bytes().rev().take_while(|&b| is_ident(b)).count();
            if p > 0 && !head.ends_with(')') {
                words(&head[head.len() - p..], out);
            }
        }
    }
}

/// The receiver chain that ends just before byte `end` of `code` (`activity.get(user)` before
/// `.push(`), as its root name and the chain's text; `None` when it is not rooted in a name.
fn receiver(code: &str, end: usize) -> Option<(String, String)> {
    let b = code.as_bytes();
    let mut i = end;
    loop {
        // Skip a balanced `(...)` or `[...]` group backwards.
        if i > 0 && matches!(b[i - 1], b')' | b']') {
            let mut depth = 0i32;
            while i > 0 {
                i -= 1;
                match b[i] {
                    b')' | b']' => depth += 1,
                    b'(' | b'[' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        let word_end = i;
        while i > 0 && is_ident(b[i - 1]) {
            i -= 1;
        }
        if i == word_end {
            return None;
        }
        if i >= 2 && &b[i - 2..i] == b"?." {
            i -= 2;
        } else if i >= 1 && b[i - 1] == b'.' {
            i -= 1;
        } else {
            break;
        }
    }
    let chain = code[i..end].trim().to_string();
    let root: String = chain
        .bytes()
        .take_while(|&c| is_ident(c))
        .map(char::from)
        .collect();
    (!root.is_empty() && !root.as_bytes()[0].is_ascii_digit()).then_some((root, chain))
}

/// The holders a line grows: `x.push(`, `x.get(k).push(`, `x[k] = v`, `x += s` (not a number),
/// `Object.assign(x, ...)`, `setTimeout(`/`setInterval(` (Node's timer list), as (root, chain).
fn grown(code: &str) -> Vec<(String, String)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    for (i, _) in code.match_indices('.') {
        let name: String = code[i + 1..]
            .bytes()
            .take_while(|&c| is_ident(c))
            .map(char::from)
            .collect();
        let after = code[i + 1 + name.len()..].trim_start();
        if GROWING.contains(&name.as_str()) && after.starts_with('(') {
            let end = if i > 0 && b[i - 1] == b'?' { i - 1 } else { i };
            // `f().then(…)` chains on a fresh promise; only a stored one keeps its reactions.
            let fresh = name == "then" && code[..end].trim_end().ends_with(')');
            if !fresh {
                out.extend(receiver(code, end));
            }
        }
    }
    for (i, _) in code.match_indices('=') {
        let prev = if i > 0 { b[i - 1] } else { b' ' };
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        if matches!(next, b'=' | b'>') || matches!(prev, b'=' | b'!' | b'<' | b'>') {
            continue;
        }
        let lhs = code[..i].trim_end();
        if prev == b'+' {
            let rhs = code[i + 1..].trim().trim_end_matches(';');
            if rhs.parse::<f64>().is_err() {
                let l = lhs[..lhs.len() - 1].trim_end();
                out.extend(receiver(l, l.len()));
            }
        } else if lhs.ends_with(']') {
            out.extend(receiver(lhs, lhs.len()).filter(|(_, c)| c.contains('[')));
        }
    }
    if let Some(i) = code.find("Object.assign(") {
        let arg = &code[i + "Object.assign(".len()..];
        let end = arg.find([',', ')']).unwrap_or(arg.len());
        let name = arg[..end].trim();
        if !name.is_empty() && name.bytes().all(|c| is_ident(c) || c == b'.') {
            let root: String = name
                .bytes()
                .take_while(|&c| is_ident(c))
                .map(char::from)
                .collect();
            out.push((root, name.to_string()));
        }
    }
    for t in ["setTimeout(", "setInterval("] {
        if code
            .find(t)
            .is_some_and(|i| i == 0 || !is_ident(b[i - 1]) && b[i - 1] != b'.')
        {
            out.push(("setTimeout".into(), "(Node timers)".into()));
        }
    }
    out
}

/// Whether `name` is declared at the top level of `text` (a declaration at column 0).
fn module_scope(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        let mut v = Vec::new();
        !l.starts_with([' ', '\t', '}', ')']) && {
            declared_names(&code_only(l), &mut v);
            v.iter().any(|n| n == name)
        }
    })
}

/// Statements in the function starting at line `start` of `text` that grow a holder the
/// function did not declare, in line order.
pub fn growths(text: &str, start: usize) -> Vec<Growth> {
    let lines: Vec<&str> = text.lines().collect();
    let Some((from, codes)) = body_codes(&lines, start) else {
        return Vec::new();
    };
    // The parameters are on the start line, before the body.
    let mut locals = Vec::new();
    declared_names(&code_only(lines[start]), &mut locals);
    for c in &codes {
        declared_names(c, &mut locals);
    }
    let mut out = Vec::new();
    for (k, code) in codes.iter().enumerate() {
        for (root, chain) in grown(code) {
            let scope = if root == "setTimeout" {
                Scope::Closure
            } else if root == "this" {
                if chain == "this" {
                    continue;
                }
                Scope::Field
            } else if locals.contains(&root) {
                continue;
            } else if module_scope(text, &root) {
                Scope::Module
            } else if text.contains(&format!("const {root}"))
                || text.contains(&format!("let {root}"))
                || text.contains(&format!("var {root}"))
            {
                Scope::Closure
            } else {
                // Not a name of this file (a global such as `console`, or an import).
                continue;
            };
            out.push(Growth {
                line: from + k,
                holder: chain,
                scope,
                once_per_key: code.contains("!") && code.contains(".has("),
            });
        }
    }
    out
}

/// The app functions a function calls: `name(` and `obj.name(` in its body, without the
/// growing calls, each once, in order.
pub fn callees(text: &str, start: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some((_, codes)) = body_codes(&lines, start) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for code in &codes {
        for (i, _) in code.match_indices('(') {
            let n = code[..i].trim_end();
            let len = n.bytes().rev().take_while(|&c| is_ident(c)).count();
            let name = &n[n.len() - len..];
            if len == 0 || name.as_bytes()[0].is_ascii_digit() || GROWING.contains(&name) {
                continue;
            }
            let keyword = [
                "if", "for", "while", "switch", "catch", "function", "return", "async", "await",
            ];
            if keyword.contains(&name) || out.iter().any(|o| o == name) {
                continue;
            }
            out.push(name.to_string());
        }
    }
    out
}

/// Where `name` is defined in `text` (0-based line): `function name(`, `name = (...) =>`,
/// `name = function`, `name(...) {` (a class method), `name: function`/`name: (...) =>`.
pub fn definition(text: &str, name: &str) -> Option<usize> {
    text.lines().position(|l| {
        let code = code_only(l);
        let t = code.trim_start();
        let t = t.strip_prefix("export ").unwrap_or(t);
        let t = t.strip_prefix("async ").unwrap_or(t);
        if let Some(rest) = t.strip_prefix("function ") {
            return rest
                .trim_start()
                .strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with('('));
        }
        let t2 = ["const ", "let ", "var "]
            .iter()
            .find_map(|k| t.strip_prefix(k))
            .unwrap_or(t);
        let Some(rest) = t2.strip_prefix(name) else {
            return false;
        };
        let rest = rest.trim_start();
        if let Some(v) = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':')) {
            let v = v.trim_start();
            let v = v.strip_prefix("async").map(str::trim_start).unwrap_or(v);
            return v.starts_with("function")
                || (v.starts_with('(') && code.contains("=>"))
                || v.split("=>")
                    .next()
                    .is_some_and(|h| code.contains("=>") && h.trim().bytes().all(is_ident));
        }
        // A class method: `name(args) {` on its own line.
        rest.starts_with('(') && code.trim_end().ends_with('{') && !code.contains(';')
    })
}

#[cfg(test)]
#[path = "growth_scan_tests.rs"]
mod tests;
