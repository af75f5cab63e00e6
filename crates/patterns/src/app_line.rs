//! The app's line that uses the library: the line calling the library (`createLogger(`,
//! `new DataLoader(`) in the function that called into it, else in the app's files, else the
//! suspect's own `grows`/`declared` line, else the calling frame itself.

use leakhound_schema::evidence::SourceLine;

use crate::evidence::{Frame, SourceFile, Suspect};
use crate::table::Pattern;

/// A function is searched this far past its first line at most.
const MAX_FUNCTION_LINES: usize = 200;

fn is_comment(code: &str) -> bool {
    let t = code.trim_start();
    t.starts_with("//") || t.starts_with('*') || t.starts_with("/*")
}

fn uses(p: &Pattern, code: &str) -> bool {
    !is_comment(code) && p.app_calls.iter().any(|c| code.contains(c.as_str()))
}

fn line(kind: &str, file: &str, n: usize, code: &str) -> SourceLine {
    let code = code.trim();
    SourceLine {
        kind: kind.into(),
        location: format!("{file}:{n}"),
        code: code.chars().take(160).collect(),
    }
}

/// The first line using the library inside the function that starts at `caller.line`: up to
/// the line that closes it (a `}` at or left of its first line's indentation).
fn in_function(p: &Pattern, caller: &Frame, sources: &[SourceFile]) -> Option<SourceLine> {
    let file = sources.iter().find(|f| f.name == caller.url)?;
    let start = caller.line.checked_sub(1)? as usize;
    let lines: Vec<&str> = file.text.lines().collect();
    let first = lines.get(start)?;
    let indent = first.len() - first.trim_start().len();
    for (i, code) in lines
        .iter()
        .enumerate()
        .skip(start)
        .take(MAX_FUNCTION_LINES)
    {
        if uses(p, code) {
            return Some(line("uses", &file.name, i + 1, code));
        }
        let own = code.len() - code.trim_start().len();
        if i > start && own <= indent && code.trim_start().starts_with('}') {
            break;
        }
    }
    None
}

fn in_files(p: &Pattern, sources: &[SourceFile]) -> Option<SourceLine> {
    sources.iter().find_map(|f| {
        f.text
            .lines()
            .enumerate()
            .find(|(_, c)| uses(p, c))
            .map(|(i, c)| line("uses", &f.name, i + 1, c))
    })
}

/// The app line for a match (see the module's doc for the order).
pub(crate) fn find(
    p: &Pattern,
    caller: Option<&Frame>,
    suspects: &[&Suspect],
    sources: &[SourceFile],
) -> Option<SourceLine> {
    let own = |kind: &str| {
        suspects
            .iter()
            .flat_map(|s| &s.source)
            .find(|l| l.kind == kind)
            .cloned()
    };
    caller
        .and_then(|c| in_function(p, c, sources))
        .or_else(|| {
            suspects
                .iter()
                .flat_map(|s| &s.source)
                .find(|l| l.kind == "grows" && uses(p, &l.code))
                .cloned()
        })
        .or_else(|| p.scan_files.then(|| in_files(p, sources)).flatten())
        .or_else(|| own("grows"))
        .or_else(|| own("declared"))
        .or_else(|| {
            caller.map(|c| {
                let code = sources
                    .iter()
                    .find(|f| f.name == c.url)
                    .and_then(|f| f.text.lines().nth((c.line as usize).saturating_sub(1)))
                    .unwrap_or_default();
                line("calls", &c.url, c.line as usize, code)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::table;

    fn pattern(id: &str) -> &'static Pattern {
        table().iter().find(|p| p.id == id).unwrap()
    }

    fn src(text: &str) -> Vec<SourceFile> {
        vec![SourceFile {
            name: "app.js".into(),
            text: text.into(),
        }]
    }

    const APP: &str = "// the logger: createLogger( in a comment\nconst w = require('winston');\nfunction handle(req, res) {\n  const logger = w.createLogger({});\n  res.end();\n}\nfunction other() {\n  w.createLogger({});\n}\n";

    #[test]
    fn the_callers_function_is_searched_first_and_comments_are_not_code() {
        let caller = Frame {
            function: "other".into(),
            url: "app.js".into(),
            line: 7,
        };
        let l = find(
            pattern("winston-logger-per-request"),
            Some(&caller),
            &[],
            &src(APP),
        )
        .unwrap();
        assert_eq!((l.kind.as_str(), l.location.as_str()), ("uses", "app.js:8"));
        // Without a caller, the files are scanned: the first use, not the comment.
        let l = find(pattern("winston-logger-per-request"), None, &[], &src(APP)).unwrap();
        assert_eq!(l.location, "app.js:4");
        assert_eq!(l.code, "const logger = w.createLogger({});");
    }

    #[test]
    fn the_search_stops_at_the_end_of_the_callers_function() {
        let caller = Frame {
            function: "handle".into(),
            url: "app.js".into(),
            line: 3,
        };
        let text = "const x = 1;\nconst loader = new DataLoader(f);\nfunction handle() {\n  loader.load(1);\n}\nconst late = new DataLoader(g);\n";
        // Not in `handle`: the file scan finds the module-scope line, not the one after it.
        let l = find(
            pattern("dataloader-module-scope"),
            Some(&caller),
            &[],
            &src(text),
        )
        .unwrap();
        assert_eq!(l.location, "app.js:2");
    }

    #[test]
    fn generic_patterns_take_the_suspects_grows_line_or_the_caller() {
        let s = Suspect {
            source: vec![
                SourceLine {
                    kind: "declared".into(),
                    location: "app.js:1".into(),
                    code: "const bus = new Bus();".into(),
                },
                SourceLine {
                    kind: "grows".into(),
                    location: "app.js:9".into(),
                    code: "bus.on('tick', f);".into(),
                },
            ],
            ..Suspect::default()
        };
        let p = pattern("event-emitter-listeners");
        let text = "req.on('data', f);\n";
        let l = find(p, None, &[&s], &src(text)).unwrap();
        assert_eq!(l.location, "app.js:9");
        let caller = Frame {
            function: "tick".into(),
            url: "app.js".into(),
            line: 1,
        };
        let l = find(
            pattern("timers-never-cleared"),
            Some(&caller),
            &[],
            &src("x\n"),
        )
        .unwrap();
        assert_eq!(
            (l.kind.as_str(), l.location.as_str()),
            ("calls", "app.js:1")
        );
        assert_eq!(find(p, None, &[], &src(text)), None);
    }
}
