//! The culprit from a known library leak: when neither the snapshots nor the surviving
//! allocation sites named a line (the growing statement is inside the package, and a short
//! run's snapshots may show no significant group), a matched library pattern still knows the
//! app's line that uses the library, and that is the line to change (the pattern's fix says
//! how). Without this, a MemoryStore leak in a cluster worker had its pattern but no culprit
//! sentence.

use leakhound_report::run_schema::RunReport;
use leakhound_schema::culprit::CulpritOut;

/// Fill `r.culprit` from the first library pattern that names an app line, when the hunt
/// found none.
pub(crate) fn fill(r: &mut RunReport) {
    if r.culprit.is_none() {
        r.culprit = from_pattern(r);
    }
}

/// The culprit a library pattern gives: what grows (by how much), through which pattern, and
/// the app line that uses the library.
fn from_pattern(r: &RunReport) -> Option<CulpritOut> {
    let p = r.library_patterns.iter().find(|p| p.app_line.is_some())?;
    let line = p.app_line.clone()?;
    let grows = match crate::culprit_line::rate(r) {
        Some(rate) => format!("retained memory grows by {rate}"),
        None => "retained memory grows".to_string(),
    };
    let package = if p.package.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.package)
    };
    Some(CulpritOut {
        sentence: format!(
            "{grows} through a known library leak, {}{package}; the line to change is {}: `{}`.",
            p.name, line.location, line.code
        ),
        line: Some(line),
        evidence: "library-pattern".into(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_report::run_schema::SourceLine;
    use leakhound_schema::culprit::LibraryPatternOut;

    fn pattern(app_line: Option<&str>) -> LibraryPatternOut {
        LibraryPatternOut {
            id: "express-session-memory-store".into(),
            name: "express-session MemoryStore in production".into(),
            package: "express-session".into(),
            app_line: app_line.map(|l| SourceLine {
                kind: "uses".into(),
                location: l.into(),
                code: "app.use(session({ secret }));".into(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_pattern_with_an_app_line_names_the_line_to_change() {
        let mut r = RunReport {
            retained_bytes_per_request: 2048.0,
            library_patterns: vec![pattern(None), pattern(Some("app.js:12"))],
            ..Default::default()
        };
        fill(&mut r);
        let c = r.culprit.expect("a culprit");
        assert_eq!(c.line.unwrap().location, "app.js:12");
        assert_eq!(c.evidence, "library-pattern");
        assert_eq!(
            c.sentence,
            "retained memory grows by 2.0 KiB/request through a known library leak, \
             express-session MemoryStore in production (express-session); the line to change \
             is app.js:12: `app.use(session({ secret }));`."
        );
    }

    #[test]
    fn a_culprit_already_found_stays_and_a_pattern_without_a_line_gives_none() {
        let found = CulpritOut {
            sentence: "from the snapshots".into(),
            ..Default::default()
        };
        let mut r = RunReport {
            culprit: Some(found.clone()),
            library_patterns: vec![pattern(Some("app.js:12"))],
            ..Default::default()
        };
        fill(&mut r);
        assert_eq!(r.culprit, Some(found));
        let mut r = RunReport {
            library_patterns: vec![pattern(None)],
            ..Default::default()
        };
        fill(&mut r);
        assert_eq!(r.culprit, None);
    }
}
