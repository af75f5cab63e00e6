//! The app's source around each line the culprit names (`declared`, `grows`, the library
//! pattern's app line), captured into the run's JSON when the run ends rather than read when
//! a report is rendered: `leakhound report` may run later, on another machine, or after the
//! code changed, and the excerpt must show the code the run saw.

use std::path::{Path, PathBuf};

use leakhound_report::run_schema::{RunReport, SourceExcerpt};

/// Lines shown before and after the named line.
pub const CONTEXT: u32 = 3;
/// At most this many excerpts per run.
const MAX_EXCERPTS: usize = 20;
/// Files bigger than this are not read (a bundle is no source a user edits).
const MAX_FILE_BYTES: u64 = 4 << 20;
/// Each line is cut to this many characters.
const MAX_LINE_CHARS: usize = 160;

/// Excerpts for every `file:line` the report's suspects, culprit and library patterns name.
pub fn excerpts(r: &RunReport, base: Option<&Path>) -> Vec<SourceExcerpt> {
    let culprit = r
        .culprit
        .iter()
        .flat_map(|c| c.line.iter().chain(&c.declared));
    let named = r
        .suspects
        .iter()
        .flat_map(|s| &s.source)
        .chain(culprit)
        .chain(
            r.library_patterns
                .iter()
                .filter_map(|p| p.app_line.as_ref()),
        );
    let mut out: Vec<SourceExcerpt> = Vec::new();
    for l in named {
        if out.len() == MAX_EXCERPTS || out.iter().any(|e| e.location == l.location) {
            continue;
        }
        if let Some(e) = excerpt(&l.location, base) {
            out.push(e);
        }
    }
    out
}

/// The lines around `file:line`, when the file can be read.
fn excerpt(location: &str, base: Option<&Path>) -> Option<SourceExcerpt> {
    let (file, line) = location.rsplit_once(':')?;
    let line: u32 = line.parse().ok().filter(|&n| n > 0)?;
    let path = PathBuf::from(file.strip_prefix("file://").unwrap_or(file));
    let path = match base {
        Some(b) if path.is_relative() => b.join(path),
        _ => path,
    };
    if std::fs::metadata(&path).ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let first = line.saturating_sub(CONTEXT).max(1);
    let lines: Vec<String> = text
        .lines()
        .skip(first as usize - 1)
        .take((line + CONTEXT + 1 - first) as usize)
        .map(|l| l.chars().take(MAX_LINE_CHARS).collect())
        .collect();
    // A line past the end of the file is a stale location: nothing to show.
    if lines.len() < (line - first + 1) as usize {
        return None;
    }
    Some(SourceExcerpt {
        location: location.to_string(),
        first_line: first,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_report::run_schema::{SourceLine, SuspectOut};

    #[test]
    fn lines_around_each_named_line_once() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("app.js"), text).unwrap();
        let line = |kind: &str, loc: &str| SourceLine {
            kind: kind.into(),
            location: loc.into(),
            code: String::new(),
        };
        let r = RunReport {
            suspects: vec![SuspectOut {
                source: vec![
                    line("declared", "app.js:2"),
                    line("grows", "app.js:9"),
                    line("grows", "app.js:9"),
                    line("grows", "app.js:99"),
                    line("grows", "gone.js:3"),
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = excerpts(&r, Some(dir.path()));
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!((e[0].first_line, e[0].lines.len()), (1, 5));
        assert_eq!(e[0].lines[1], "line 2");
        assert_eq!(e[1].first_line, 6);
        assert_eq!(
            e[1].lines,
            ["line 6", "line 7", "line 8", "line 9", "line 10"]
        );
    }
}
