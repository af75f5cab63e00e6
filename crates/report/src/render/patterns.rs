//! The known library leak patterns a run matched (`RunReport.library_patterns`), in text,
//! Markdown and HTML: the pattern's name, the app line that uses the library, why it leaks,
//! the fix, and the evidence. Each run renderer calls these with one line.

use std::fmt::Write as _;
use std::io;

use crate::escape::{html as esc, markdown as md};
use crate::run_schema::RunReport;
use leakhound_schema::culprit::LibraryPatternOut;

/// Evidence lines shown per pattern (the JSON keeps all of them).
const MAX_EVIDENCE: usize = 6;

fn title(p: &LibraryPatternOut) -> String {
    if p.package.is_empty() {
        p.name.clone()
    } else {
        format!("{} ({})", p.name, p.package)
    }
}

/// Text, after the culprit section.
pub fn text(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    for p in &r.library_patterns {
        writeln!(out, "known library leak: {}", title(p))?;
        if let Some(l) = &p.app_line {
            writeln!(out, "    {:<8}  {}  {}", l.kind, l.location, l.code)?;
        }
        writeln!(out, "    why: {}", p.why)?;
        writeln!(out, "    fix: {}", p.fix)?;
        for e in p.evidence.iter().take(MAX_EVIDENCE) {
            writeln!(out, "    evidence: {e}")?;
        }
    }
    Ok(())
}

/// Markdown, after the top suspect.
pub fn markdown(r: &RunReport, o: &mut String) {
    for p in &r.library_patterns {
        let _ = writeln!(o, "**Known library leak:** {}\n", md(&title(p)));
        if let Some(l) = &p.app_line {
            let _ = writeln!(
                o,
                "- app line `{}`: `{}`",
                l.location.replace('`', "'"),
                l.code.replace('`', "'")
            );
        }
        let _ = writeln!(o, "- why: {}", md(&p.why));
        let _ = writeln!(o, "- fix: {}", md(&p.fix));
        for e in p.evidence.iter().take(MAX_EVIDENCE) {
            let _ = writeln!(o, "- evidence: {}", md(e));
        }
        let _ = writeln!(o);
    }
}

/// HTML, after the heap snapshot suspects.
pub fn html(r: &RunReport, o: &mut String) {
    if r.library_patterns.is_empty() {
        return;
    }
    o.push_str("<h2>Known library leaks</h2>");
    for p in &r.library_patterns {
        let _ = write!(o, "<div class=\"suspect\"><b>{}</b>", esc(&title(p)));
        if let Some(l) = &p.app_line {
            let _ = write!(
                o,
                "<table class=\"source\"><tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr></table>",
                esc(&l.kind),
                esc(&l.location),
                esc(&l.code)
            );
        }
        let _ = write!(
            o,
            "<p><b>Why:</b> {}</p><p><b>Fix:</b> {}</p>",
            esc(&p.why),
            esc(&p.fix)
        );
        if !p.evidence.is_empty() {
            o.push_str("<ul>");
            for e in p.evidence.iter().take(MAX_EVIDENCE) {
                let _ = write!(o, "<li>{}</li>", esc(e));
            }
            o.push_str("</ul>");
        }
        o.push_str("</div>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_schema::evidence::SourceLine;

    fn report() -> RunReport {
        RunReport {
            library_patterns: vec![LibraryPatternOut {
                id: "dataloader-module-scope".into(),
                name: "DataLoader created at module scope".into(),
                package: "dataloader".into(),
                why: "It caches every key <forever>.".into(),
                fix: "Create it per request.".into(),
                evidence: vec!["suspect #1: Promise held by _cacheMap (Map)".into()],
                app_line: Some(SourceLine {
                    kind: "uses".into(),
                    location: "app.js:14".into(),
                    code: "const userLoader = new DataLoader(batch);".into(),
                }),
                suspect: Some(0),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn text_names_the_pattern_the_app_line_and_the_fix() {
        let mut v = Vec::new();
        text(&report(), &mut v).unwrap();
        let t = String::from_utf8(v).unwrap();
        assert!(
            t.starts_with("known library leak: DataLoader created at module scope (dataloader)\n"),
            "{t}"
        );
        assert!(
            t.contains("    uses      app.js:14  const userLoader = new DataLoader(batch);\n"),
            "{t}"
        );
        assert!(t.contains("    fix: Create it per request.\n"), "{t}");
        assert!(
            t.contains("    evidence: suspect #1: Promise held by _cacheMap (Map)\n"),
            "{t}"
        );
        let mut v = Vec::new();
        text(&RunReport::default(), &mut v).unwrap();
        assert!(v.is_empty());
    }

    #[test]
    fn markdown_and_html_carry_the_same_and_escape_it() {
        let mut m = String::new();
        markdown(&report(), &mut m);
        assert!(
            m.contains("**Known library leak:** DataLoader created at module scope (dataloader)"),
            "{m}"
        );
        assert!(
            m.contains("- app line `app.js:14`: `const userLoader = new DataLoader(batch);`"),
            "{m}"
        );
        let mut h = String::new();
        html(&report(), &mut h);
        assert!(h.contains("<h2>Known library leaks</h2>"), "{h}");
        assert!(h.contains("It caches every key &lt;forever&gt;."), "{h}");
        assert!(!h.contains("<forever>"), "{h}");
        let mut empty = String::new();
        html(&RunReport::default(), &mut empty);
        assert!(empty.is_empty());
    }
}
